// Property-based fuzzing of claims (fast-check): valid claims drawn from the whole claim API all
// render; the same claims with hostile edits (wrong types, odd strings, platform-owned or unknown
// keys, deleted fields, replaced subtrees) render or fail with exactly one Fatal naming the field.
// Never an exception, a rejection or an InternalError.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { runFunction } from '../../functions/secure-bucket/src/function.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { claimOf, validSpec } from '../../tools/claim-generator.js';
import { exampleEnvironment, requestFor } from '../../tools/workload.js';
import { mutation, mutate } from './hostile.js';
import { expectWellFormed, resolvesWithoutThrowing, type Json } from './oracle.js';
import { propertySeed } from '../lib/seed.js';

const VALID_RUNS = 2_000;
const MUTATED_RUNS = 5_000;
const environment = exampleEnvironment();
const REGION = String((environment['data'] as Json)['region']);
const NAMESPACE = 'team-fuzz';
const BUCKET_PREFIX = String((environment['data'] as Json)['bucketNamePrefix']);

/** The XR Crossplane would make of a claim whose spec may not even be an object. */
function compositeWithSpec(spec: unknown): Json {
  const composite = compositeForClaim(claimOf('fuzzed', NAMESPACE, {}));
  const crossplaneFields = composite['spec'] as Json;
  composite['spec'] = spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? { ...(spec as Json), ...crossplaneFields } : spec;
  return composite;
}

async function render(spec: unknown): Promise<boolean> {
  const rsp = await resolvesWithoutThrowing(() => runFunction(requestFor('fuzz', compositeWithSpec(spec), environment)));
  return expectWellFormed(rsp, JSON.stringify(spec)?.slice(0, 2000) ?? String(spec));
}

describe('claims, property-based', () => {
  it(`renders every valid claim (${VALID_RUNS} generated)`, async () => {
    await fc.assert(
      fc.asyncProperty(validSpec(REGION, BUCKET_PREFIX, NAMESPACE), async (spec) => {
        expect(await render(spec)).toBe(true);
      }),
      { numRuns: VALID_RUNS, seed: propertySeed('FUZZ_VALID_SEED', 20_240_601) },
    );
  });

  it(`renders or names the field for every hostile edit of a valid claim (${MUTATED_RUNS} generated)`, async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(validSpec(REGION, BUCKET_PREFIX, NAMESPACE), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (spec, edits) => {
        if (!(await render(mutate(spec, edits)))) refused++;
      }),
      { numRuns: MUTATED_RUNS, seed: propertySeed('FUZZ_MUTATED_SEED') },
    );
    // The edits must actually bite: a generator that only produced harmless edits would prove nothing.
    expect(refused).toBeGreaterThan(MUTATED_RUNS / 4);
  });
});
