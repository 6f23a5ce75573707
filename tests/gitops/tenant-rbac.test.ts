// Tenant RBAC as each cluster's Flux applies it, read statically: every role bound to a tenant is
// a plain role from this repo, and none writes any *.upbound.io group. What a tenant may and may
// not do is asked of the real authorizer in tests/e2e/tenant-rbac.test.ts (make e2e, staging);
// the home-made rule matcher that answered it here is gone.
import { describe, expect, it } from '@jest/globals';
import { type Binding, type Rule, type Subject } from '../lib/rbac.js';
import { type K8sObject, appliedObjects, clusterNames, tenantNames } from '../lib/kustomize.js';

const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];
/** Groups every tenant identity belongs to: a binding to one of them binds every tenant. */
const EVERYONE = ['system:authenticated', 'system:unauthenticated', 'system:serviceaccounts'];

function tenantNamespaces(objects: K8sObject[]): string[] {
  return objects.filter((o) => o.kind === 'Namespace' && o.metadata.labels?.['toolkit.fluxcd.io/tenant'] !== undefined).map((o) => o.metadata.name);
}

function isTenantSubject(subject: Subject, binding: Binding, tenants: string[]): boolean {
  if (subject.kind === 'ServiceAccount') return tenants.includes(subject.namespace ?? binding.metadata.namespace ?? '');
  if (subject.kind === 'Group') return EVERYONE.includes(subject.name) || tenants.some((t) => subject.name === `system:serviceaccounts:${t}`);
  return false;
}

interface Grant {
  binding: string;
  role: string;
  rules: Rule[];
}

/** Every role bound to a tenant subject, or to anyone in a tenant namespace. A role that is not in the output fails. */
function tenantGrants(objects: K8sObject[]): Grant[] {
  const tenants = tenantNamespaces(objects);
  const bindings = objects.filter((o): o is Binding => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding');
  return bindings
    .filter((b) => tenants.includes(b.metadata.namespace ?? '') || (b.subjects ?? []).some((s) => isTenantSubject(s, b, tenants)))
    .map((b) => {
      const role = objects.find(
        (o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name && (o.kind === 'ClusterRole' || o.metadata.namespace === b.metadata.namespace),
      );
      // Built-in roles (admin, edit) or aggregated ones cannot be evaluated here: refuse them.
      if (role === undefined || role['aggregationRule'] !== undefined)
        throw new Error(
          `${b.kind} ${b.metadata.namespace ?? ''}/${b.metadata.name}: ${b.roleRef.kind} ${b.roleRef.name} is not a plain role applied from this repo`,
        );
      return {
        binding: `${b.kind} ${b.metadata.namespace ?? ''}/${b.metadata.name}`,
        role: `${role.kind} ${role.metadata.name}`,
        rules: (role['rules'] as Rule[] | undefined) ?? [],
      };
    });
}

describe.each(clusterNames().map((c) => [c]))('cluster %s: tenant RBAC', (cluster) => {
  const objects = appliedObjects(cluster).map(({ object }) => object);
  const tenants = tenantNamespaces(objects);
  const grants = tenantGrants(objects);

  it('has tenants, and roles bound to them', () => {
    // The tenants this cluster onboards (its tenants/kustomization.yaml), never a fixed list.
    expect(tenants.sort()).toEqual(tenantNames(cluster));
    expect(tenants.length).toBeGreaterThan(0);
    expect(grants.length).toBeGreaterThanOrEqual(tenants.length);
  });

  it('no tenant role writes any *.upbound.io group, even a kind the schemas do not list', () => {
    const writes = grants.flatMap((g) => g.rules.filter((r) => (r.verbs ?? []).some((v) => v === '*' || WRITE_VERBS.includes(v))).map((r) => ({ g, r })));
    expect(writes.length).toBeGreaterThan(0);
    const upbound = writes.filter(({ r }) => (r.apiGroups ?? []).some((group) => group === '*' || group.endsWith('upbound.io')));
    expect(upbound.map(({ g, r }) => `${g.role}: ${JSON.stringify(r)}`)).toEqual([]);
  });
});
