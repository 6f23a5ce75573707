// The policy proofs hold for both resource families. They run on policySetFor (the core converged
// in the cluster family); here, for every example and both platform variants: (1) the function's
// own cluster-family render yields exactly those policy documents, and (2) the same request as a
// v2 XSecureBucket (namespaced family) yields the same documents, byte for byte, as the claim.
// tests/policy/access-matrix.test.ts also runs the access matrix on a v2 render.
import { describe, expect, it } from '@jest/globals';
import { namespacedPolicySetFor, policySetFor, renderedPolicySetFor, type EnvironmentVariant, type PolicySet } from '../lib/simulate.js';
import { exampleClaims, type Json } from '../lib/function-fixtures.js';

/** Every policy document of a set: bucket, key, endpoint, each consumer's, the replica's, and every policy string rendered. */
function documents(set: PolicySet): Json {
  const rendered: Record<string, unknown> = {};
  for (const [name, r] of Object.entries(set.resources)) {
    const forProvider = (r.spec['forProvider'] ?? {}) as Json;
    for (const [field, value] of Object.entries(forProvider)) if (/policy/i.test(field)) rendered[`${name}.${field}`] = value;
  }
  return {
    bucketName: set.bucketName,
    identity: { claimName: set.identity.claimName, claimNamespace: set.identity.claimNamespace },
    bucketPolicy: set.bucketPolicy,
    keyPolicy: set.keyPolicy,
    endpointPolicy: set.endpointPolicy,
    consumers: set.consumers,
    replica: set.replica ? documents(set.replica) : null,
    rendered,
  };
}

const variants: EnvironmentVariant[] = ['irsa-shared-endpoint', 'pod-identity-dedicated-endpoint'];
const cases = variants.flatMap((variant) => exampleClaims().map(({ file, claim }) => [file, variant, claim] as const));

describe.each(cases)('policy documents of %s (%s)', (_file, variant, claim) => {
  it("the function's claim render has the documents the proofs run on", async () => {
    expect(documents(await renderedPolicySetFor(claim, variant))).toEqual(documents(policySetFor(claim, variant)));
  });

  it('the v2 XSecureBucket render has the same documents as the claim', async () => {
    // AWS assigns key ids: seeded alike, so that both renders see the same key ARNs.
    const claimSet = await renderedPolicySetFor(claim, variant, { idSeed: 'same-ids' });
    const v2Set = await namespacedPolicySetFor(claim, variant, { idSeed: 'same-ids' });
    expect(Object.keys(documents(v2Set)['rendered'] as Json).length).toBeGreaterThanOrEqual(3);
    expect(Object.values(v2Set.resources).every((r) => r.apiVersion.includes('.aws.m.upbound.io/'))).toBe(true);
    expect(documents(v2Set)).toEqual(documents(claimSet));
  });
});
