// Every resource the function renders, for every example claim, on the first pass and once
// converged, under both platform variants, validates against the upstream provider-aws CRDs
// (unknown fields rejected): in both resource families, the claim's cluster-scoped kinds and the
// namespaced kinds of the same request made a v2 XSecureBucket.
import { describe, expect, it } from '@jest/globals';
import { getSchemaRegistry } from '../lib/schema-validator.js';
import { desiredResources, environmentConfig, exampleClaim, exampleClaims, podIdentityDedicatedEndpoint, renderPasses, type Json } from '../lib/function-fixtures.js';
import { namespacedXrFor } from '../../functions/secure-bucket/cli/xr/namespaced.js';

const platforms: Array<[string, ReturnType<typeof environmentConfig>]> = [
  ['IRSA + shared endpoint', environmentConfig()],
  ['Pod Identity + dedicated endpoint', environmentConfig(podIdentityDedicatedEndpoint)],
];

/** Every resource of the observing, first and converged passes, with the errors of those that do not validate. */
async function renderedAndValidated(claim: Parameters<typeof renderPasses>[0], env: Json): Promise<{ resources: Json[]; errors: string[] }> {
  const registry = getSchemaRegistry();
  const { observing, first, converged } = await renderPasses(claim, env);
  const resources: Json[] = [];
  const errors: string[] = [];
  for (const rsp of [observing, first, converged]) {
    for (const [name, resource] of Object.entries(desiredResources(rsp))) {
      resources.push(resource);
      const result = registry.validate(resource);
      if (!result.ok) errors.push(`${name}: ${result.errors.join('; ')}`);
    }
  }
  return { resources, errors };
}

const examples = exampleClaims().map((c): [string, typeof c.claim] => [c.file, c.claim]);

describe.each(platforms)('rendered resources validate (%s)', (_platform, env) => {
  it.each(examples)('%s', async (_file, claim) => {
    const { resources, errors } = await renderedAndValidated(claim, env);
    expect(errors).toEqual([]);
    expect(resources.length).toBeGreaterThan(10);
    expect(resources.filter((r) => !String(r['apiVersion']).includes('.aws.upbound.io/'))).toEqual([]);
  });
});

describe.each(platforms)('rendered as a v2 XSecureBucket, the namespaced resources validate (%s)', (_platform, env) => {
  it.each(examples)('%s', async (_file, claim) => {
    const { resources, errors } = await renderedAndValidated(namespacedXrFor(claim), env);
    expect(errors).toEqual([]);
    expect(resources.length).toBeGreaterThan(10);
    // Only the namespaced family, each in the XR's namespace, on the platform's ClusterProviderConfig.
    for (const r of resources) {
      const spec = r['spec'] as Json;
      expect({ apiVersion: r['apiVersion'], namespace: (r['metadata'] as Json)['namespace'], providerConfigRef: spec['providerConfigRef'], deletionPolicy: spec['deletionPolicy'] }).toEqual({
        apiVersion: expect.stringMatching(/^[a-z0-9]+\.aws\.m\.upbound\.io\/v1beta1$/),
        namespace: claim.metadata.namespace,
        providerConfigRef: { kind: 'ClusterProviderConfig', name: 'default' },
        deletionPolicy: undefined,
      });
    }
  });
});

it('a misspelt field in a rendered resource would be caught (the check is not vacuous)', async () => {
  const { converged } = await renderPasses(exampleClaim('scratch'));
  const bucket = structuredClone(desiredResources(converged)['bucket']!) as { spec: { forProvider: Record<string, unknown> } };
  bucket.spec.forProvider['forceDestory'] = false;
  const result = getSchemaRegistry().validate(bucket);
  expect(result.ok).toBe(false);
  expect(result.errors.join('\n')).toMatch(/forceDestory/);
});

it('a deletionPolicy on a namespaced resource would be caught (the namespaced CRDs have none)', async () => {
  const { converged } = await renderPasses(namespacedXrFor(exampleClaim('scratch')));
  const bucket = structuredClone(desiredResources(converged)['bucket']!) as { spec: Record<string, unknown> };
  bucket.spec['deletionPolicy'] = 'Orphan';
  const result = getSchemaRegistry().validate(bucket);
  expect(result.ok).toBe(false);
  expect(result.errors.join('\n')).toMatch(/deletionPolicy/);
});
