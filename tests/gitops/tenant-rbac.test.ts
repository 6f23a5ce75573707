// What tenants can never do, proved on what Flux applies in each cluster: every Role and
// ClusterRole bound to a tenant subject is evaluated the way the RBAC authorizer matches rules
// (wildcards included) against a list of forbidden (group, resource, verb). A tenant who could
// write a managed resource or a provider config would bypass every control of the function: a
// raw Bucket needs no bucket policy, a ProviderConfig can carry other credentials.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { type Binding, ruleAllows, type Rule, type Subject } from '../lib/rbac.js';
import { loadYamlDocuments, schemasDir } from '../lib/repo.js';
import { type K8sObject, appliedObjects, clusterNames, tenantNames } from '../lib/kustomize.js';

const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const READ_VERBS = ['get', 'list', 'watch'];
/** Groups every tenant identity belongs to: a binding to one of them binds every tenant. */
const EVERYONE = ['system:authenticated', 'system:unauthenticated', 'system:serviceaccounts'];

/** (group, resource) of every CRD in a shared/schemas folder. */
function crdResources(folder: string): Array<{ group: string; resource: string }> {
  const dir = path.join(schemasDir, folder);
  return readdirSync(dir).map((file) => {
    const crd = loadYamlDocuments(path.join(dir, file))[0] as { spec: { group: string; names: { plural: string } } };
    return { group: crd.spec.group, resource: crd.spec.names.plural };
  });
}

// Both families of managed resources and their provider configs (ProviderConfig, ClusterProviderConfig,
// ProviderConfigUsage), Crossplane's own API, the bare v1 XR (claims only) and RBAC (escalation).
const FORBIDDEN_TARGETS: Array<{ group: string; resource: string }> = [
  ...crdResources('provider-aws'),
  ...crdResources('provider-aws-namespaced'),
  ...crdResources('crossplane'),
  { group: 'platform.example.org', resource: 'xsecurebuckets' },
  ...['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'].map((resource) => ({ group: 'rbac.authorization.k8s.io', resource })),
];
const FORBIDDEN = FORBIDDEN_TARGETS.flatMap((t) => WRITE_VERBS.map((verb) => ({ ...t, verb })));

/** The activation policy's namespaced kinds: what a tenant may read in its namespace. */
function namespacedManagedKinds(): Array<{ group: string; resource: string }> {
  const policy = loadYamlDocuments('clusters/base/crossplane-packages/activation-policy.yaml')[0] as { spec: { activate: string[] } };
  return policy.spec.activate
    .filter((name) => name.endsWith('.aws.m.upbound.io'))
    .map((name) => ({ resource: name.slice(0, name.indexOf('.')), group: name.slice(name.indexOf('.') + 1) }));
}

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
      const role = objects.find((o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name && (o.kind === 'ClusterRole' || o.metadata.namespace === b.metadata.namespace));
      // Built-in roles (admin, edit) or aggregated ones cannot be evaluated here: refuse them.
      if (role === undefined || role['aggregationRule'] !== undefined) throw new Error(`${b.kind} ${b.metadata.namespace ?? ''}/${b.metadata.name}: ${b.roleRef.kind} ${b.roleRef.name} is not a plain role applied from this repo`);
      return { binding: `${b.kind} ${b.metadata.namespace ?? ''}/${b.metadata.name}`, role: `${role.kind} ${role.metadata.name}`, rules: (role['rules'] as Rule[] | undefined) ?? [] };
    });
}

function forbiddenGrants(grants: Grant[]): string[] {
  return grants.flatMap((g) =>
    FORBIDDEN.filter((f) => g.rules.some((r) => ruleAllows(r, f.group, f.resource, f.verb))).map((f) => `${g.binding} -> ${g.role}: ${f.verb} ${f.group}/${f.resource}`),
  );
}

describe('the forbidden list and the rule matcher', () => {
  it('lists both families of managed resources and every provider config kind', () => {
    const names = FORBIDDEN_TARGETS.map((t) => `${t.resource}.${t.group}`);
    for (const name of ['buckets.s3.aws.upbound.io', 'buckets.s3.aws.m.upbound.io', 'bucketpolicies.s3.aws.m.upbound.io', 'providerconfigs.aws.upbound.io', 'providerconfigs.aws.m.upbound.io', 'clusterproviderconfigs.aws.m.upbound.io']) {
      expect(names).toContain(name);
    }
    expect(FORBIDDEN_TARGETS.filter((t) => t.group.endsWith('.aws.m.upbound.io')).length).toBeGreaterThan(30);
  });

  const grant = (rule: Rule): Grant[] => [{ binding: 'RoleBinding t/x', role: 'ClusterRole x', rules: [rule] }];
  it.each<[string, Rule]>([
    ['every verb on everything', { apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
    ['every resource of the namespaced s3 group', { apiGroups: ['s3.aws.m.upbound.io'], resources: ['*'], verbs: ['create'] }],
    ['patch on buckets of any group', { apiGroups: ['*'], resources: ['buckets'], verbs: ['patch'] }],
    ['every verb on the cluster provider configs', { apiGroups: ['aws.m.upbound.io'], resources: ['clusterproviderconfigs'], verbs: ['*'] }],
    ['delete on one named namespaced bucket', { apiGroups: ['s3.aws.m.upbound.io'], resources: ['buckets'], verbs: ['delete'], resourceNames: ['b'] }],
  ])('catches %s', (_name, rule) => {
    expect(forbiddenGrants(grant(rule)).length).toBeGreaterThan(0);
  });

  it('lets read-only rules on managed resources and writes on xsecurebuckets through', () => {
    expect(forbiddenGrants(grant({ apiGroups: ['*'], resources: ['*'], verbs: READ_VERBS }))).toEqual([]);
    expect(forbiddenGrants(grant({ apiGroups: ['storage.platform.example.org'], resources: ['xsecurebuckets'], verbs: ['*'] }))).toEqual([]);
  });
});

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

  it('no role bound to a tenant can write a managed resource, a provider config, the Crossplane API or RBAC', () => {
    expect(forbiddenGrants(grants)).toEqual([]);
  });

  it('no tenant role writes any *.upbound.io group, even a kind the schemas do not list', () => {
    const writes = grants.flatMap((g) => g.rules.filter((r) => (r.verbs ?? []).some((v) => v === '*' || WRITE_VERBS.includes(v))).map((r) => ({ g, r })));
    expect(writes.length).toBeGreaterThan(0);
    const upbound = writes.filter(({ r }) => (r.apiGroups ?? []).some((group) => group === '*' || group.endsWith('upbound.io')));
    expect(upbound.map(({ g, r }) => `${g.role}: ${JSON.stringify(r)}`)).toEqual([]);
  });

  describe.each(tenantNames(cluster).map((t) => [t]))('%s', (tenant) => {
    const rules = grants.filter((g) => g.binding.startsWith(`RoleBinding ${tenant}/`)).flatMap((g) => g.rules);
    const allowed = (group: string, resource: string) => [...READ_VERBS, ...WRITE_VERBS].filter((verb) => rules.some((r) => ruleAllows(r, group, resource, verb)));

    it('creates, updates and deletes xsecurebuckets (v2) in its namespace, as Flux applies them (patch) and prunes', () => {
      expect(allowed('storage.platform.example.org', 'xsecurebuckets')).toEqual(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']);
    });

    it('keeps the claim API (production tenants use it)', () => {
      expect(allowed('platform.example.org', 'xsecurebucketclaims')).toEqual(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']);
    });

    it('reads, and only reads, every namespaced managed kind the platform activates', () => {
      const kinds = namespacedManagedKinds();
      expect(kinds.length).toBeGreaterThanOrEqual(20);
      for (const { group, resource } of kinds) expect({ kind: `${resource}.${group}`, verbs: allowed(group, resource) }).toEqual({ kind: `${resource}.${group}`, verbs: READ_VERBS });
    });
  });
});
