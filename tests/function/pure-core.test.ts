// The core does not mutate what it was given: every example claim composes from deep-frozen inputs
// (in strict-mode modules a write to a frozen object throws), on the first pass and on a converged one.
import { describe, expect, it } from '@jest/globals';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { converge } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { inProcessFunction } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { composeSecureBucket } from '../../functions/secure-bucket/src/core/index.js';
import { environmentConfig, exampleClaims, type Json } from '../lib/function-fixtures.js';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('the core does not mutate its input', () => {
  it.each(exampleClaims().map(({ file, claim }) => [file, claim] as const))('%s composes from frozen inputs', async (_file, claim) => {
    const environment = environmentConfig();
    const composite = compositeForClaim(claim);
    const first = composeSecureBucket(
      deepFreeze({ composite: structuredClone(composite), environmentData: structuredClone(environment['data']), observed: {} }),
    );
    expect(Object.keys(first.resources).length).toBeGreaterThan(0);
    // A later pass: what the fake provider reported, and the status the XR carries.
    const converged = await converge(inProcessFunction, composite, { clusterObjects: [environment], converge: true, maxPasses: 8 });
    const observed = Object.fromEntries(Object.entries(converged.observed).map(([k, v]) => [k, { resource: v }]));
    const again = composeSecureBucket(
      deepFreeze({
        composite: { ...structuredClone(composite), status: converged.status },
        environmentData: structuredClone(environment['data']),
        observed: structuredClone(observed) as Record<string, { resource: Json }>,
      }),
    );
    expect(Object.keys(again.resources).length).toBeGreaterThan(0);
  });
});
