// Tenants are locked into their namespaces: Flux's multi-tenancy flags are on, each tenant's
// Kustomization runs as the tenant's own service account, and that account's RBAC reaches
// only the allowed kinds, only in the tenant's namespace.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { dump } from 'js-yaml';
import { type Binding, type Rule } from '../lib/rbac.js';
import { repoRoot } from '../lib/repo.js';
import { getSchemaRegistry } from '../lib/schema-validator.js';
import {
  type FluxStage,
  type K8sObject,
  appliedObjects,
  clusterNames,
  fluxSpec,
  groupOf,
  kustomizeBuild,
  reconcileCluster,
  tenantNames,
} from '../lib/kustomize.js';

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
/** group -> resources a tenant's reconciler may write: the claim or v2 XR and the cdk8s consumer objects. */
const ALLOWED: Record<string, string[]> = {
  'platform.example.org': ['xsecurebucketclaims'],
  'storage.platform.example.org': ['xsecurebuckets'],
  '': ['serviceaccounts'],
  'networking.k8s.io': ['networkpolicies'],
  apps: ['deployments'],
  'security.istio.io': ['authorizationpolicies', 'peerauthentications'],
  'networking.istio.io': ['destinationrules', 'serviceentries'],
};
/** Read only: the namespaced managed resources a v2 XR composes (tests/gitops/tenant-rbac.test.ts has the details). */
const READ_ONLY_GROUP = /^[a-z0-9]+\.aws\.m\.upbound\.io$/;
const READ_VERBS = ['get', 'list', 'watch'];
/** Kind -> resource name, for the kinds tenants' folders contain. */
const RESOURCE_OF: Record<string, string> = {
  XSecureBucketClaim: 'xsecurebucketclaims',
  XSecureBucket: 'xsecurebuckets',
  ServiceAccount: 'serviceaccounts',
  NetworkPolicy: 'networkpolicies',
  Deployment: 'deployments',
  AuthorizationPolicy: 'authorizationpolicies',
  PeerAuthentication: 'peerauthentications',
  DestinationRule: 'destinationrules',
  ServiceEntry: 'serviceentries',
};

/** What a service account may do, resolved from every (Cluster)RoleBinding the cluster applies. */
function grantsOf(objects: K8sObject[], namespace: string, serviceAccount: string) {
  const bindings = objects.filter((o): o is Binding => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding');
  const mine = bindings.filter((b) =>
    (b.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === serviceAccount && (s.namespace ?? b.metadata.namespace) === namespace),
  );
  return mine.map((binding) => {
    const role = objects.find(
      (o) =>
        o.kind === binding.roleRef.kind &&
        o.metadata.name === binding.roleRef.name &&
        (o.kind === 'ClusterRole' || o.metadata.namespace === binding.metadata.namespace),
    );
    return { binding, rules: (role?.['rules'] as Rule[] | undefined) ?? undefined };
  });
}

function tenantStage(stages: FluxStage[], tenant: string): FluxStage {
  const stage = stages.find((s) => s.id === `${tenant}/secure-buckets`);
  if (stage === undefined) throw new Error(`no Kustomization ${tenant}/secure-buckets`);
  return stage;
}

describe.each(clusterNames().map((c) => [c]))('cluster %s: tenants', (cluster) => {
  const stages = reconcileCluster(cluster);
  const everything = appliedObjects(cluster).map(({ object }) => object);

  it('no tenant is bound cluster-wide: there is no ClusterRoleBinding at all', () => {
    expect(everything.filter((o) => o.kind === 'ClusterRoleBinding').map((o) => o.metadata.name)).toEqual([]);
  });

  describe.each(tenantNames(cluster).map((t) => [t]))('%s', (tenant) => {
    const stage = tenantStage(stages, tenant);
    const spec = fluxSpec(stage.kustomization);

    it('reconciles its own folder as its own service account, into its own namespace, from its own source', () => {
      expect(spec['serviceAccountName']).toBe('flux-reconciler');
      expect(spec['targetNamespace']).toBe(tenant);
      expect(stage.path).toBe(`clusters/${cluster}/tenants/${tenant}`);
      expect(stage.kustomization.metadata.namespace).toBe(tenant);
      expect((spec['sourceRef'] as { namespace?: string }).namespace).toBeUndefined();
    });

    it('has a Namespace and the reconciler service account, created by the platform (not by itself)', () => {
      const onboarding = stages.find((s) => s.id === 'flux-system/tenants') as FluxStage;
      expect(onboarding.objects.some((o) => o.kind === 'Namespace' && o.metadata.name === tenant)).toBe(true);
      expect(onboarding.objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'flux-reconciler' && o.metadata.namespace === tenant)).toBe(
        true,
      );
    });

    it('is granted rights only by RoleBindings in its own namespace', () => {
      const grants = grantsOf(everything, tenant, 'flux-reconciler');
      expect(grants.length).toBeGreaterThan(0);
      for (const { binding, rules } of grants) {
        expect({ kind: binding.kind, namespace: binding.metadata.namespace }).toEqual({ kind: 'RoleBinding', namespace: tenant });
        expect(rules).toBeDefined();
      }
    });

    it('may touch only the allowed kinds, with only the seven object verbs, never a wildcard', () => {
      const rules = grantsOf(everything, tenant, 'flux-reconciler').flatMap((g) => g.rules ?? []);
      const granted: Record<string, Set<string>> = {};
      for (const rule of rules) {
        expect(rule.nonResourceURLs ?? []).toEqual([]);
        for (const list of [rule.apiGroups, rule.resources, rule.verbs]) expect(list ?? []).not.toContain('*');
        expect(rule.verbs?.every((v) => VERBS.includes(v))).toBe(true);
        for (const group of rule.apiGroups ?? []) {
          if (READ_ONLY_GROUP.test(group)) {
            expect({ group, verbs: rule.verbs }).toEqual({ group, verbs: READ_VERBS });
            continue;
          }
          for (const resource of rule.resources ?? []) {
            expect({ group, resource, allowed: (ALLOWED[group] ?? []).includes(resource) }).toEqual({ group, resource, allowed: true });
            const verbs = (granted[`${group}/${resource}`] ??= new Set());
            for (const verb of rule.verbs ?? []) verbs.add(verb);
          }
        }
      }
      // And everything it needs to apply and prune its folder (server-side apply is a PATCH).
      for (const [group, resources] of Object.entries(ALLOWED)) {
        for (const resource of resources)
          expect({ resource: `${group}/${resource}`, verbs: [...(granted[`${group}/${resource}`] ?? [])].sort() }).toEqual({
            resource: `${group}/${resource}`,
            verbs: VERBS,
          });
      }
    });

    it('has no rights on Sidecars, Gateways or VirtualServices (the platform applies those), and its folder holds none', () => {
      const rules = grantsOf(everything, tenant, 'flux-reconciler').flatMap((g) => g.rules ?? []);
      const istioNetworking = rules.filter((r) => (r.apiGroups ?? []).includes('networking.istio.io')).flatMap((r) => r.resources ?? []);
      expect(istioNetworking.length).toBeGreaterThan(0);
      for (const resource of ['sidecars', 'gateways', 'virtualservices']) expect(istioNetworking).not.toContain(resource);
      expect(stage.objects.filter((o) => ['Sidecar', 'Gateway', 'VirtualService'].includes(o.kind)).map((o) => o.metadata.name)).toEqual([]);
    });

    it('its folder holds only allowed kinds, all in its own namespace, and its buckets on one API (v2 or claims, `make tenant API=`)', () => {
      const outside = stage.objects.filter(
        (o) => (o.metadata.namespace ?? tenant) !== tenant || !(ALLOWED[groupOf(o.apiVersion)] ?? []).includes(RESOURCE_OF[o.kind] ?? ''),
      );
      expect(outside.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([]);
      // A tenant just onboarded has no bucket yet; one that has buckets does not mix the APIs.
      const buckets = stage.objects.filter((o) => o.kind === 'XSecureBucketClaim' || o.kind === 'XSecureBucket');
      expect(new Set(buckets.map((o) => o.kind)).size).toBeLessThanOrEqual(1);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The lockdown flags: bootstrap writes the controllers into gotk-components.yaml (committed
// empty), so the patches are checked on a copy of clusters/ with controller Deployments of the
// shape Flux ships (container 0 = manager, with an args list).

const CONTROLLERS = ['source-controller', 'kustomize-controller', 'helm-controller', 'notification-controller'];
const controllerDeployment = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'flux-system', labels: { 'app.kubernetes.io/part-of': 'flux' } },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        serviceAccountName: name,
        containers: [{ name: 'manager', image: `ghcr.io/fluxcd/${name}:v1.0.0`, args: ['--watch-all-namespaces=true', '--log-level=info'] }],
      },
    },
  },
});

describe.each(clusterNames().map((c) => [c]))('cluster %s: Flux multi-tenancy lockdown', (cluster) => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'flux-lockdown-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  cpSync(path.join(repoRoot, 'clusters'), path.join(scratch, 'clusters'), { recursive: true });
  writeFileSync(
    path.join(scratch, 'clusters', cluster, 'flux-system', 'gotk-components.yaml'),
    CONTROLLERS.map((n) => dump(controllerDeployment(n))).join('---\n'),
  );
  const built = kustomizeBuild(path.join(scratch, 'clusters', cluster, 'flux-system'));
  const argsOf = (name: string) => {
    const deployment = built.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as unknown as {
      spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
    };
    return deployment.spec.template.spec.containers[0]?.args ?? [];
  };

  it('kustomize-controller: no cross-namespace refs, no remote bases, `default` as the fallback account', () => {
    expect(argsOf('kustomize-controller')).toEqual(
      expect.arrayContaining(['--no-cross-namespace-refs=true', '--no-remote-bases=true', '--default-service-account=default']),
    );
  });

  it('helm-controller and notification-controller: no cross-namespace refs; helm-controller defaults to `default`', () => {
    expect(argsOf('helm-controller')).toEqual(expect.arrayContaining(['--no-cross-namespace-refs=true', '--default-service-account=default']));
    expect(argsOf('notification-controller')).toContain('--no-cross-namespace-refs=true');
  });

  it("keeps the controllers' own arguments and leaves source-controller alone", () => {
    expect(argsOf('kustomize-controller').slice(0, 2)).toEqual(['--watch-all-namespaces=true', '--log-level=info']);
    expect(argsOf('source-controller')).toEqual(['--watch-all-namespaces=true', '--log-level=info']);
  });

  it('the patched controller Deployments still validate against the apps/v1 document (unknown fields rejected)', () => {
    const deployments = built.filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...CONTROLLERS].sort());
    expect(deployments.flatMap((d) => getSchemaRegistry().validate(d).errors)).toEqual([]);
  });

  it('the flux-system sync itself still runs as kustomize-controller', () => {
    const sync = built.find((o) => o.kind === 'Kustomization' && o.metadata.name === 'flux-system') as K8sObject;
    expect(fluxSpec(sync)['serviceAccountName']).toBe('kustomize-controller');
  });
});
