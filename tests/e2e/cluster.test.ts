// Issue 21: the platform on a real control plane (make e2e starts it: upstream/cluster.sh). The
// apiserver, RBAC, ValidatingAdmissionPolicies, XRD CEL rules, Crossplane core and both functions
// are the real ones; only provider-aws is a stand-in (tools/cluster/provider-standin.ts).
import { dump } from 'js-yaml';
import { accountState, conditionsOf, eventually, getJson, isTrue, kubectl, requireCluster } from '../lib/cluster.js';
import { loadYamlDocuments } from '../lib/repo.js';
import { keepsExternalOnDelete, OBSERVE_ONLY, type Json } from '../../functions/secure-bucket/src/core/index.js';

const NS = 'team-sales';
const TENANT = `system:serviceaccount:${NS}:flux-reconciler`;
const XR = 'xsecurebuckets.storage.platform.example.org';
const NAME = 'e2e-orders';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const xr = (spec: Record<string, unknown>, name = NAME): string =>
  dump({ apiVersion: 'storage.platform.example.org/v1alpha1', kind: 'XSecureBucket', metadata: { name, namespace: NS }, spec });

const ORDERS = {
  region: 'us-east-1',
  naming: { strategy: 'Generated' },
  consumers: [{ name: 'orders-api', serviceAccount: 'orders-api', access: 'ReadWrite', prefixes: ['orders/'] }],
};

/** The managed resources composed for one namespaced XR (every installed managed kind, via the category). */
function composed(name: string): Obj[] {
  return getJson<{ items: Obj[] }>(['get', 'managed', '-n', NS, '-l', `crossplane.io/composite=${name}`]).items;
}

const resourceName = (mr: Obj): string => mr.metadata.annotations?.['crossplane.io/composition-resource-name'] ?? mr.metadata.name;
const externalName = (mr: Obj): string | undefined => mr.metadata.annotations?.['crossplane.io/external-name'];

async function readyXr(name: string): Promise<Obj> {
  return eventually(
    `XSecureBucket ${NS}/${name} Ready with SecureBucketComplete True`,
    240,
    () => {
      const obj = getJson<Obj>(['get', XR, '-n', NS, name]);
      return isTrue(obj, 'Ready') && isTrue(obj, 'SecureBucketComplete') ? obj : undefined;
    },
    () => JSON.stringify(conditionsOf(getJson<Obj>(['get', XR, '-n', NS, name]))),
  );
}

beforeAll(() => requireCluster());

test('the XRDs are Established and their Compositions are installed', () => {
  const xrds = getJson<{ items: Obj[] }>(['get', 'compositeresourcedefinitions']).items;
  const expected = ['compositions/definition.yaml', 'compositions/definition-v2.yaml'].map((f) => (loadYamlDocuments(f)[0] as Obj).metadata.name);
  expect(xrds.map((x) => x.metadata.name).sort()).toEqual(expected.sort());
  for (const x of xrds) expect({ xrd: x.metadata.name, established: isTrue(x, 'Established') }).toEqual({ xrd: x.metadata.name, established: true });
  const compositions = getJson<{ items: Obj[] }>(['get', 'compositions']).items.map((c) => c.metadata.name);
  for (const f of ['compositions/composition.yaml', 'compositions/composition-v2.yaml'])
    expect(compositions).toContain((loadYamlDocuments(f)[0] as Obj).metadata.name);
});

test('kubectl get xsecurebuckets.<group> -n team-sales shows the printer columns, for the tenant too', () => {
  for (const as of [undefined, TENANT]) {
    const r = kubectl(['get', XR, '-n', NS], as ? { as } : {});
    expect(r.stderr).toBe('');
    const header = (r.stdout.split('\n')[0] ?? '').split(/\s+/).filter(Boolean);
    expect(header).toEqual(['NAME', 'BUCKET', 'REGION', 'ENCRYPTION', 'LOCK', 'SYNCED', 'READY', 'COMPOSITION', 'AGE']);
    expect(r.stdout).toMatch(/^sales-events\s+\S+\s+us-east-1\s/m);
  }
});

test('a tenant applies an XSecureBucket as its Flux identity; the stand-in reconciles what it composes; it turns Ready', async () => {
  const applied = kubectl(['apply', '--server-side', '--field-manager=kustomize-controller', '-f', '-'], { as: TENANT, input: xr(ORDERS) });
  expect(applied.stderr).toBe('');
  const obj = await readyXr(NAME);
  const mrs = composed(NAME);
  const kinds = new Set(mrs.map((m) => m.kind));
  for (const kind of ['Bucket', 'BucketPolicy', 'BucketPublicAccessBlock', 'Key', 'Role']) expect(kinds).toContain(kind);
  for (const mr of mrs) {
    expect({ mr: resourceName(mr), ready: isTrue(mr, 'Ready') || mr.spec?.['managementPolicies'] !== undefined }).toEqual({
      mr: resourceName(mr),
      ready: true,
    });
    expect(mr.metadata.namespace).toBe(NS);
    expect(mr.apiVersion).toMatch(/\.aws\.m\.upbound\.io\//);
  }
  // The bucket exists in the stand-in's account under the name the XR reports.
  const bucket = mrs.find((m) => m.kind === 'Bucket') as Obj;
  expect(accountState()['Bucket']?.[externalName(bucket) as string]).toBeDefined();
  expect(JSON.stringify(obj.status)).toContain(externalName(bucket) as string);
}, 300_000);

test('the apiserver refuses an invalid XR with the XRD CEL rule message', () => {
  const r = kubectl(['apply', '--dry-run=server', '-f', '-'], { as: TENANT, input: xr({ ...ORDERS, naming: { strategy: 'Fixed' } }, 'e2e-invalid') });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('naming.name is required when naming.strategy is Fixed');
});

const forbidden: Array<[string, Record<string, unknown>, RegExp]> = [
  [
    'a managed resource',
    { apiVersion: 's3.aws.m.upbound.io/v1beta1', kind: 'Bucket', metadata: { name: 'mine', namespace: NS }, spec: { forProvider: { region: 'us-east-1' } } },
    /forbidden.*cannot create resource "buckets" in API group "s3\.aws\.m\.upbound\.io"/i,
  ],
  [
    'a namespaced ProviderConfig',
    { apiVersion: 'aws.m.upbound.io/v1beta1', kind: 'ProviderConfig', metadata: { name: 'mine', namespace: NS }, spec: { credentials: { source: 'IRSA' } } },
    /forbidden.*providerconfigs/i,
  ],
  [
    'a ClusterProviderConfig',
    { apiVersion: 'aws.m.upbound.io/v1beta1', kind: 'ClusterProviderConfig', metadata: { name: 'mine' }, spec: { credentials: { source: 'IRSA' } } },
    /forbidden.*clusterproviderconfigs/i,
  ],
  [
    'a Composition',
    {
      apiVersion: 'apiextensions.crossplane.io/v1',
      kind: 'Composition',
      metadata: { name: 'mine' },
      spec: {
        compositeTypeRef: { apiVersion: 'storage.platform.example.org/v1alpha1', kind: 'XSecureBucket' },
        mode: 'Pipeline',
        pipeline: [{ step: 's', functionRef: { name: 'function-auto-ready' } }],
      },
    },
    /forbidden.*compositions/i,
  ],
  [
    'an EnvironmentConfig',
    { apiVersion: 'apiextensions.crossplane.io/v1beta1', kind: 'EnvironmentConfig', metadata: { name: 'mine' }, data: { accountId: '999999999999' } },
    /forbidden.*environmentconfigs/i,
  ],
  [
    'an Istio ServiceEntry exported to istio-system',
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'mine', namespace: NS },
      spec: {
        hosts: ['example.com'],
        exportTo: ['istio-system'],
        location: 'MESH_EXTERNAL',
        resolution: 'DNS',
        ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
      },
    },
    /ValidatingAdmissionPolicy 'secure-bucket-tenant-mesh'.*denied request.*exportTo must be \["\."\]/,
  ],
];

test.each(forbidden)('as the tenant, creating %s is refused', (_what, obj, message) => {
  const r = kubectl(['create', '--dry-run=server', '-f', '-'], { as: TENANT, input: dump(obj) });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(message);
});

test('deleting an XR leaves exactly its Orphan resources in the account; re-creating it takes them over', async () => {
  await readyXr(NAME);
  const before = composed(NAME);
  // Orphan on the v2 API is managementPolicies without Delete (the .m. kinds have no deletionPolicy).
  const orphan = (mr: Obj): boolean => keepsExternalOnDelete(mr as unknown as Json);
  expect(before.filter(orphan).map((m) => m.kind)).toEqual(expect.arrayContaining(['Bucket', 'Key']));
  const held = (mr: Obj): boolean => accountState()[mr.kind]?.[externalName(mr) as string] !== undefined;
  const observeOnly = (mr: Obj): boolean => JSON.stringify(mr.spec?.['managementPolicies']) === JSON.stringify(OBSERVE_ONLY);
  for (const mr of before.filter((m) => !observeOnly(m))) expect({ mr: resourceName(mr), held: held(mr) }).toEqual({ mr: resourceName(mr), held: true });

  const deleted = kubectl(['delete', XR, '-n', NS, NAME, '--wait=false'], { as: TENANT });
  expect(deleted.stderr).toBe('');
  // The garbage collector (kube-controller-manager) deletes the composed resources; the stand-in releases them.
  await eventually(
    'composed resources gone',
    180,
    () => (composed(NAME).length === 0 && kubectl(['get', XR, '-n', NS, NAME]).code !== 0 ? true : undefined),
    () => composed(NAME).map(resourceName).join(', '),
  );
  const managed = before.filter((m) => !observeOnly(m));
  expect(managed.filter(held).map(resourceName).sort()).toEqual(managed.filter(orphan).map(resourceName).sort());

  const reapplied = kubectl(['apply', '--server-side', '--field-manager=kustomize-controller', '-f', '-'], { as: TENANT, input: xr(ORDERS) });
  expect(reapplied.stderr).toBe('');
  await readyXr(NAME);
  const after = composed(NAME);
  for (const old of before.filter(orphan)) {
    const now = after.find((m) => resourceName(m) === resourceName(old));
    expect({ mr: resourceName(old), externalName: now && externalName(now) }).toEqual({ mr: resourceName(old), externalName: externalName(old) });
  }
}, 600_000);
