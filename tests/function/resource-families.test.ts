// One core, two resource families (core/family.ts): a claim's XR composes cluster-scoped kinds, the
// same request as a namespaced v2 XSecureBucket composes their namespaced twins in its namespace.
// The mapping touches apiVersion, namespace, providerConfigRef and deletionPolicy only: every AWS
// name, policy document and setting is the same, which is what lets a tenant move without losing
// anything; and a v2 XR cannot borrow another tenant's identity through claim labels.
import { describe, expect, it } from '@jest/globals';
import {
  CLUSTER_PROVIDER_CONFIG,
  keepsExternalOnDelete,
  OWNER_API_TAG,
  type ManagedResource,
  namespacedResource,
  ORPHAN_POLICIES,
} from '../../functions/secure-bucket/src/core/index.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { FakeAccount } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { namespacedXrFor } from '../../functions/secure-bucket/cli/xr/namespaced.js';
import {
  call,
  desiredResources,
  desiredStatus,
  environmentConfig,
  exampleClaim,
  exampleClaims,
  fatalOf,
  podIdentityDedicatedEndpoint,
  renderPasses,
  type Json,
} from '../lib/function-fixtures.js';
import { loadYamlDocuments } from '../lib/repo.js';

const platforms: Array<[string, Json]> = [
  ['IRSA + shared endpoint', environmentConfig()],
  ['Pod Identity + dedicated endpoint', environmentConfig(podIdentityDedicatedEndpoint)],
];
const examples = exampleClaims().map((c) => [c.file, c.claim] as const);

/** A resource with what the family mapping may change taken out: the rest must be identical. */
function familyNeutral(r: Json): Json {
  const { namespace: _ns, ...metadata } = r['metadata'] as Json;
  const { deletionPolicy: _dp, managementPolicies: _mp, providerConfigRef: _pc, ...spec } = r['spec'] as Json;
  return { kind: r['kind'], metadata, spec: withoutApiTag(spec) };
}

/** The one tag that differs by design: which API requested the bucket (adoption.ts guardApi). */
function withoutApiTag(spec: Json): Json {
  const forProvider = spec['forProvider'] as Json | undefined;
  const tags = forProvider?.['tags'] as Record<string, string> | undefined;
  if (tags?.[OWNER_API_TAG] === undefined) return spec;
  const { [OWNER_API_TAG]: _api, ...rest } = tags;
  return { ...spec, forProvider: { ...forProvider, tags: rest } };
}

function orphaned(r: Json): boolean {
  return keepsExternalOnDelete(r);
}

describe.each(platforms)('a claim and its v2 XSecureBucket render the same AWS resources (%s)', (_platform, env) => {
  it.each(examples)('%s: same composed resources, same names, settings and policies; only the family differs', async (_file, claim) => {
    // AWS assigns key and endpoint ids: seeded alike, so that both renders see the same ones.
    const cluster = await renderPasses(claim, env, { idSeed: 'same-ids' });
    const namespaced = await renderPasses(namespacedXrFor(claim), env, { idSeed: 'same-ids' });
    for (const pass of ['observing', 'first', 'converged'] as const) {
      const a = desiredResources(cluster[pass]);
      const b = desiredResources(namespaced[pass]);
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const name of Object.keys(a)) {
        expect({ name, resource: familyNeutral(b[name]!) }).toEqual({ name, resource: familyNeutral(a[name]!) });
        // The group's namespaced twin, the version the namespaced CRDs serve.
        expect(b[name]!['apiVersion']).toBe(String(a[name]!['apiVersion']).replace(/\.aws\.upbound\.io\/v1beta\d$/, '.aws.m.upbound.io/v1beta1'));
        // What outlives the claim outlives the v2 XR; observe-only stays observe-only.
        expect({ name, orphan: orphaned(b[name]!) }).toEqual({ name, orphan: orphaned(a[name]!) });
        const observeOnly = (r: Json) => JSON.stringify((r['spec'] as Json)['managementPolicies']) === '["Observe"]';
        expect({ name, observeOnly: observeOnly(b[name]!) }).toEqual({ name, observeOnly: observeOnly(a[name]!) });
      }
    }
    expect(desiredStatus(namespaced.converged)).toEqual(desiredStatus(cluster.converged));
    expect(Object.keys(desiredResources(cluster.converged)).length).toBeGreaterThan(10);
  });
});

describe('the family mapping (core/family.ts)', () => {
  const resource = (spec: Json): ManagedResource => ({
    apiVersion: 's3.aws.upbound.io/v1beta2',
    kind: 'Bucket',
    metadata: { labels: { a: 'b' }, annotations: { 'crossplane.io/external-name': 'x' } },
    spec: { forProvider: { region: 'us-east-1' }, ...spec },
  });

  it('Orphan becomes managementPolicies without Delete; Delete becomes the default; observe-only stays', () => {
    expect(namespacedResource(resource({ deletionPolicy: 'Orphan' }), 'team-a').spec).toEqual({
      forProvider: { region: 'us-east-1' },
      managementPolicies: ORPHAN_POLICIES,
      providerConfigRef: { kind: 'ClusterProviderConfig', name: CLUSTER_PROVIDER_CONFIG },
    });
    expect(namespacedResource(resource({ deletionPolicy: 'Delete' }), 'team-a').spec['managementPolicies']).toBeUndefined();
    expect(namespacedResource(resource({ deletionPolicy: 'Orphan', managementPolicies: ['Observe'] }), 'team-a').spec['managementPolicies']).toEqual([
      'Observe',
    ]);
    expect(ORPHAN_POLICIES).not.toContain('Delete');
  });

  it('puts the resource in the namespace, keeps labels and external name, maps the group', () => {
    const out = namespacedResource(resource({ deletionPolicy: 'Delete' }), 'team-a');
    expect(out.apiVersion).toBe('s3.aws.m.upbound.io/v1beta1');
    expect(out.metadata).toEqual({ labels: { a: 'b' }, annotations: { 'crossplane.io/external-name': 'x' }, namespace: 'team-a' });
  });

  it('refuses a kind it has no namespaced twin for (a bug, not a tenant error)', () => {
    expect(() => namespacedResource({ ...resource({}), apiVersion: 'example.org/v1' }, 'team-a')).toThrow(/no namespaced twin/);
  });

  it('names the ClusterProviderConfig the platform commits (clusters/base/provider-config)', () => {
    const committed = loadYamlDocuments('clusters/base/provider-config/cluster-provider-config.yaml') as Array<{
      apiVersion: string;
      kind: string;
      metadata: { name: string };
    }>;
    expect(committed.filter((d) => d.kind === 'ClusterProviderConfig').map((d) => `${d.apiVersion} ${d.metadata.name}`)).toEqual([
      `aws.m.upbound.io/v1beta1 ${CLUSTER_PROVIDER_CONFIG}`,
    ]);
  });
});

describe('a v2 XSecureBucket is its own claim', () => {
  const xr = compositeForClaim(namespacedXrFor(exampleClaim('scratch')));

  it('is identified by its namespace and name, not by labels: a forged claim label is Fatal', async () => {
    const forged = structuredClone(xr);
    (forged['metadata'] as Json)['labels'] = { 'crossplane.io/claim-namespace': 'team-sales', 'crossplane.io/claim-name': 'scratch' };
    const rsp = await call({ composite: forged, environment: environmentConfig() });
    expect(fatalOf(rsp)).toMatch(/^metadata\.labels: a namespaced XSecureBucket is its own claim.*Fix: remove the crossplane\.io\/claim-\* labels/);
    expect(desiredResources(rsp)).toEqual({});
  });

  it('labels that agree with its own namespace and name are harmless', async () => {
    const agreeing = structuredClone(xr);
    const m = agreeing['metadata'] as Json;
    m['labels'] = { 'crossplane.io/claim-namespace': m['namespace'], 'crossplane.io/claim-name': m['name'] };
    expect(fatalOf(await call({ composite: agreeing, environment: environmentConfig() }))).toBeUndefined();
  });

  it('deleting it releases what it keeps: the fake account holds every Orphan resource afterwards, nothing else', async () => {
    const aws = new FakeAccount({ accountId: String((environmentConfig()['data'] as Json)['accountId']), partition: 'aws' });
    const claim = namespacedXrFor(exampleClaim('sales-events'));
    const { converged } = await renderPasses(claim, environmentConfig(), { account: aws });
    const resources = Object.values(desiredResources(converged));
    const kept = resources.filter(orphaned).map((r) => String(r['kind']));
    expect(kept).toEqual(expect.arrayContaining(['Bucket', 'Key', 'BucketPolicy']));
    const provider = aws.providerFor(claim.metadata.name);
    provider.reconcile(desiredResources(converged));
    provider.deleteComposite();
    expect(Object.keys(aws.state).sort()).toEqual([...new Set(kept)].sort());
  });
});
