// What tenants can never do, asked of the real RBAC authorizer (SubjectAccessReviews) on the
// cluster make e2e starts from clusters/staging: replaces the home-made rule matcher. A tenant who
// could write a managed resource or a provider config would bypass every control of the
// function: a raw Bucket needs no bucket policy, a ProviderConfig can carry other credentials.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { dump } from 'js-yaml';
import { getJson, kubectl, requireCluster } from '../lib/cluster.js';
import { loadYamlDocuments, schemasDir } from '../lib/repo.js';
import { tenantNames } from '../lib/kustomize.js';

const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const READ_VERBS = ['get', 'list', 'watch'];

/** (group, resource) of every CRD in a shared/schemas folder. */
function crdResources(folder: string): Array<{ group: string; resource: string }> {
  const dir = path.join(schemasDir, folder);
  return readdirSync(dir).map((file) => {
    const crd = loadYamlDocuments(path.join(dir, file))[0] as { spec: { group: string; names: { plural: string } } };
    return { group: crd.spec.group, resource: crd.spec.names.plural };
  });
}

// Both families of managed resources and their provider configs, Crossplane's own API, the bare
// v1 XR (claims only), RBAC (escalation), and kinds no schema lists yet (a wildcard would allow them).
const FORBIDDEN_TARGETS: Array<{ group: string; resource: string }> = [
  ...crdResources('provider-aws'),
  ...crdResources('provider-aws-namespaced'),
  ...crdResources('crossplane'),
  { group: 'platform.example.org', resource: 'xsecurebuckets' },
  ...['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'].map((resource) => ({ group: 'rbac.authorization.k8s.io', resource })),
  { group: 's3.aws.m.upbound.io', resource: 'notyetakind' },
  { group: 'newservice.aws.m.upbound.io', resource: 'things' },
  { group: 'newservice.aws.upbound.io', resource: 'things' },
];

/** The activation policy's namespaced kinds: what a tenant may read in its namespace. */
function namespacedManagedKinds(): Array<{ group: string; resource: string }> {
  const policy = loadYamlDocuments('clusters/base/crossplane-packages/activation-policy.yaml')[0] as { spec: { activate: string[] } };
  return policy.spec.activate
    .filter((name) => name.endsWith('.aws.m.upbound.io'))
    .map((name) => ({ resource: name.slice(0, name.indexOf('.')), group: name.slice(name.indexOf('.') + 1) }));
}

interface Ask {
  user: string;
  namespace: string;
  group: string;
  resource: string;
  verb: string;
}

/** One kubectl call for many questions: SubjectAccessReviews in a List, each answered by the authorizer. */
function allowed(asks: Ask[]): boolean[] {
  const items = asks.map((a) => ({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: a.user,
      // What the apiserver gives a ServiceAccount's requests (its groups carry bindings too).
      groups: ['system:serviceaccounts', `system:serviceaccounts:${a.namespace}`, 'system:authenticated'],
      resourceAttributes: { namespace: a.namespace, group: a.group, resource: a.resource, verb: a.verb },
    },
  }));
  // kubectl prints one answer per review, in order ('false' when status.allowed is omitted).
  const r = kubectl(['create', '-f', '-', '-o', 'jsonpath={.status.allowed}{"\\n"}'], { input: dump({ apiVersion: 'v1', kind: 'List', items }) });
  if (r.code !== 0) throw new Error(r.stderr);
  const lines = r.stdout.split('\n').slice(0, asks.length);
  if (lines.length !== asks.length) throw new Error(`${asks.length} reviews, ${lines.length} answers`);
  return lines.map((line) => line === 'true');
}

beforeAll(() => requireCluster());

const tenants = (): string[] =>
  getJson<{ items: Array<{ metadata: { name: string } }> }>(['get', 'namespaces', '-l', 'toolkit.fluxcd.io/tenant'])
    .items.map((n) => n.metadata.name)
    .sort();

// The tenants staging onboards (its tenants/kustomization.yaml), never a fixed list.
const onboarded = tenantNames('staging').sort();

test('the cluster has the tenants clusters/ onboards', () => {
  expect(tenants()).toEqual(onboarded);
  expect(onboarded.length).toBeGreaterThan(1);
});

describe.each(onboarded.map((t) => [t]))('%s', (tenant) => {
  const flux = `system:serviceaccount:${tenant}:flux-reconciler`;
  // Any other identity in the namespace (a consumer's pod) has no more than the tenant's Flux.
  const workload = `system:serviceaccount:${tenant}:sales-api`;

  test('neither its Flux identity nor its workloads can write a managed resource, a provider config, the Crossplane API or RBAC', () => {
    const asks = [flux, workload].flatMap((user) => FORBIDDEN_TARGETS.flatMap((t) => WRITE_VERBS.map((verb) => ({ user, namespace: tenant, ...t, verb }))));
    const answers = allowed(asks);
    expect(asks.filter((_a, i) => answers[i]).map((a) => `${a.user}: ${a.verb} ${a.resource}.${a.group}`)).toEqual([]);
    expect(asks.length).toBeGreaterThan(800);
  });

  test('its Flux identity creates, updates and deletes xsecurebuckets (v2) and claims in its namespace, as Flux applies (patch) and prunes', () => {
    const verbs = [...READ_VERBS, 'create', 'update', 'patch', 'delete'];
    for (const group of ['storage.platform.example.org', 'platform.example.org']) {
      const resource = group === 'platform.example.org' ? 'xsecurebucketclaims' : 'xsecurebuckets';
      expect(allowed(verbs.map((verb) => ({ user: flux, namespace: tenant, group, resource, verb })))).toEqual(verbs.map(() => true));
      // Only in its own namespace.
      const other = onboarded.find((t) => t !== tenant) as string;
      expect(allowed([{ user: flux, namespace: other, group, resource, verb: 'create' }])).toEqual([false]);
    }
  });

  test('its Flux identity reads, and only reads, every namespaced managed kind the platform activates', () => {
    const kinds = namespacedManagedKinds();
    expect(kinds.length).toBeGreaterThanOrEqual(20);
    const verbs = [...READ_VERBS, ...WRITE_VERBS];
    const asks = kinds.flatMap((k) => verbs.map((verb) => ({ user: flux, namespace: tenant, ...k, verb })));
    const answers = allowed(asks);
    const granted = new Map<string, string[]>();
    asks.forEach((a, i) => {
      if (answers[i]) granted.set(`${a.resource}.${a.group}`, [...(granted.get(`${a.resource}.${a.group}`) ?? []), a.verb]);
    });
    for (const { group, resource } of kinds)
      expect({ kind: `${resource}.${group}`, verbs: granted.get(`${resource}.${group}`) ?? [] }).toEqual({ kind: `${resource}.${group}`, verbs: READ_VERBS });
  });
});
