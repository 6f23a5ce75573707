// Every resource the function renders for every example claim, on the first pass and once
// converged, under both platform variants, is of the right resource family: the claim's
// cluster-scoped kinds, or, for the same request made a v2 XSecureBucket, the namespaced kinds in
// its namespace on the platform's ClusterProviderConfig. (That they validate against the provider
// CRDs, unknown fields and CEL rules included, is tests/upstream/validate.test.ts, with the real
// `crossplane resource validate`.)
import { describe, expect, it } from '@jest/globals';
import { desiredResources, environmentConfig, exampleClaims, podIdentityDedicatedEndpoint, renderPasses, type Json } from '../lib/function-fixtures.js';
import { namespacedXrFor } from '../../functions/secure-bucket/cli/xr/namespaced.js';

const platforms: Array<[string, ReturnType<typeof environmentConfig>]> = [
  ['IRSA + shared endpoint', environmentConfig()],
  ['Pod Identity + dedicated endpoint', environmentConfig(podIdentityDedicatedEndpoint)],
];

async function rendered(claim: Parameters<typeof renderPasses>[0], env: Json): Promise<Json[]> {
  const { observing, first, converged } = await renderPasses(claim, env);
  return [observing, first, converged].flatMap((rsp) => Object.values(desiredResources(rsp)));
}

const examples = exampleClaims().map((c): [string, typeof c.claim] => [c.file, c.claim]);

describe.each(platforms)('a claim renders cluster-scoped kinds only (%s)', (_platform, env) => {
  it.each(examples)('%s', async (_file, claim) => {
    const resources = await rendered(claim, env);
    expect(resources.length).toBeGreaterThan(10);
    expect(resources.filter((r) => !String(r['apiVersion']).includes('.aws.upbound.io/'))).toEqual([]);
  });
});

describe.each(platforms)('a v2 XSecureBucket renders namespaced kinds in its namespace (%s)', (_platform, env) => {
  it.each(examples)('%s', async (_file, claim) => {
    const resources = await rendered(namespacedXrFor(claim), env);
    expect(resources.length).toBeGreaterThan(10);
    for (const r of resources) {
      const spec = r['spec'] as Json;
      expect({
        apiVersion: r['apiVersion'],
        namespace: (r['metadata'] as Json)['namespace'],
        providerConfigRef: spec['providerConfigRef'],
        deletionPolicy: spec['deletionPolicy'],
      }).toEqual({
        apiVersion: expect.stringMatching(/^[a-z0-9]+\.aws\.m\.upbound\.io\/v1beta1$/),
        namespace: claim.metadata.namespace,
        providerConfigRef: { kind: 'ClusterProviderConfig', name: 'default' },
        deletionPolicy: undefined,
      });
    }
  });
});
