// Every resource the function renders, for every example claim, on the first pass and once
// converged, under both platform variants, validates against the upstream provider-aws CRDs
// (unknown fields rejected).
import { describe, expect, it } from '@jest/globals';
import { getSchemaRegistry } from '../lib/schema-validator.js';
import { desiredResources, environmentConfig, exampleClaim, exampleClaims, podIdentityDedicatedEndpoint, renderPasses } from '../lib/function-fixtures.js';

const platforms: Array<[string, ReturnType<typeof environmentConfig>]> = [
  ['IRSA + shared endpoint', environmentConfig()],
  ['Pod Identity + dedicated endpoint', environmentConfig(podIdentityDedicatedEndpoint)],
];

describe.each(platforms)('rendered resources validate (%s)', (_platform, env) => {
  it.each(exampleClaims().map((c): [string, typeof c.claim] => [c.file, c.claim]))('%s', async (_file, claim) => {
    const registry = getSchemaRegistry();
    const { first, converged } = await renderPasses(claim, env);
    const errors: string[] = [];
    let count = 0;
    for (const rsp of [first, converged]) {
      for (const [name, resource] of Object.entries(desiredResources(rsp))) {
        count++;
        const result = registry.validate(resource);
        if (!result.ok) errors.push(`${name}: ${result.errors.join('; ')}`);
      }
    }
    expect(errors).toEqual([]);
    expect(count).toBeGreaterThan(10);
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
