// Property-based fuzzing of raw RunFunctionRequests: every part Crossplane fills (observed XR,
// observed resources, the EnvironmentConfig under the requirement key or as an extra resource,
// the step input, the desired state) is either a hostile edit of a valid value or arbitrary
// JSON. Requests go through protobuf encode/decode as on the wire; some go over real gRPC to the
// server. The function never throws or rejects, and every failure is one Fatal naming the field.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { RunFunctionRequest } from '@crossplane-org/function-sdk-typescript';
import { startLocalFunction, type LocalFunction } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { DECLARED_ENVIRONMENT_REQUIREMENT, ENVIRONMENT_REQUIREMENT, runFunction } from '../../functions/secure-bucket/src/function.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { claimOf, validSpec } from '../../tools/claim-generator.js';
import { exampleEnvironment } from '../../tools/workload.js';
import { hostileValue, mutate, mutation } from './hostile.js';
import { expectWellFormed, resolvesWithoutThrowing, type Json } from './oracle.js';
import { propertySeed } from '../lib/seed.js';

const IN_PROCESS_RUNS = 3_000;
const GRPC_RUNS = 500;
const environment = exampleEnvironment();
const REGION = String((environment['data'] as Json)['region']);

const anyObject = fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });
/** A valid value, the same with 1-3 hostile edits, or arbitrary JSON. */
const hostileVersionOf = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 2, arbitrary: valid },
    { weight: 5, arbitrary: fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([v, edits]) => mutate(v, edits)) },
    { weight: 1, arbitrary: hostileValue },
    { weight: 1, arbitrary: anyObject },
  );

const composite = hostileVersionOf(
  validSpec(REGION, String((environment['data'] as Json)['bucketNamePrefix']), 'team-fuzz').map((spec) =>
    compositeForClaim(claimOf('fuzzed', 'team-fuzz', spec)),
  ),
);
const environmentItem = hostileVersionOf(fc.constant(environment));
const observedResource = hostileVersionOf(
  fc.record({
    apiVersion: fc.constant('kms.aws.upbound.io/v1beta1'),
    kind: fc.constantFrom('Key', 'VPCEndpoint', 'AccessPoint', 'Bucket'),
    status: fc.record({ atProvider: fc.record({ arn: hostileValue, id: hostileValue, alias: hostileValue }, { requiredKeys: [] }) }),
  }),
);
const observedName = fc.constantFrom('kms-key', 'vpc-endpoint', 'bucket', 'consumer-batch-access-point', 'consumer-x-role', '');

const rawRequest = fc
  .record(
    {
      tag: fc.string({ maxLength: 20 }),
      composite,
      observed: fc.dictionary(observedName, observedResource, { maxKeys: 4 }),
      envItems: fc.array(environmentItem, { maxLength: 2 }),
      /** Where the EnvironmentConfig arrives: declared by the step, asked for, the older extra resources, or nowhere. */
      envVia: fc.constantFrom('declared', 'requiredResources', 'extraResources', 'absent'),
      input: fc.option(fc.oneof(anyObject, fc.record({ environmentConfigName: hostileValue })), { nil: undefined }),
      desired: fc.option(fc.dictionary(fc.string({ maxLength: 10 }), anyObject, { maxKeys: 3 }), { nil: undefined }),
      context: fc.option(anyObject, { nil: undefined }),
    },
    { requiredKeys: ['tag', 'composite', 'observed', 'envItems', 'envVia'] },
  )
  .map((r) => {
    const asResource = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : { value: v });
    const items = { items: r.envItems.map((e) => ({ resource: asResource(e), connectionDetails: {}, ready: 0 })) };
    const envGroup = { [r.envVia === 'declared' ? DECLARED_ENVIRONMENT_REQUIREMENT : ENVIRONMENT_REQUIREMENT]: items };
    const partial = RunFunctionRequest.fromPartial({
      meta: { tag: r.tag },
      observed: {
        composite: r.composite === undefined ? undefined : { resource: asResource(r.composite) },
        resources: Object.fromEntries(Object.entries(r.observed).map(([k, v]) => [k, { resource: asResource(v) }])),
      },
      desired: r.desired === undefined ? undefined : { resources: Object.fromEntries(Object.entries(r.desired).map(([k, v]) => [k, { resource: v }])) },
      input: r.input as Json | undefined,
      context: r.context,
      ...(r.envVia === 'absent' ? {} : { [r.envVia === 'declared' ? 'requiredResources' : r.envVia]: envGroup }),
    });
    // As on the wire: what gRPC hands the handler is the decoded bytes, not the object we built.
    return RunFunctionRequest.decode(RunFunctionRequest.encode(partial).finish());
  });

describe('raw RunFunctionRequests, property-based', () => {
  it(`never throws, rejects or fails without naming the field (${IN_PROCESS_RUNS} requests in-process)`, async () => {
    const outcomes = { rendered: 0, refused: 0, requirementOnly: 0 };
    await fc.assert(
      fc.asyncProperty(rawRequest, async (req) => {
        const rsp = await resolvesWithoutThrowing(() => runFunction(req));
        const rendered = expectWellFormed(rsp, JSON.stringify(RunFunctionRequest.toJSON(req)).slice(0, 3000));
        // The requirement is restated on every call unless the step declared it (then none: one
        // call per reconcile) or the step input names no valid object.
        const badInput = rsp.results.some((r) => /^input\.environmentConfigName: .* is not a Kubernetes object name/.test(r.message));
        const declared = req.requiredResources[DECLARED_ENVIRONMENT_REQUIREMENT] !== undefined;
        if (declared) expect(rsp.requirements).toBeUndefined();
        else if (!badInput) expect(rsp.requirements?.resources?.[ENVIRONMENT_REQUIREMENT]?.kind).toBe('EnvironmentConfig');
        if (rendered) outcomes.rendered++;
        else if (rsp.results.length > 0) outcomes.refused++;
        else outcomes.requirementOnly++;
      }),
      { numRuns: IN_PROCESS_RUNS, seed: propertySeed('FUZZ_REQUESTS_SEED') },
    );
    // Each path must be exercised, or the generator has drifted from what the function accepts.
    for (const n of Object.values(outcomes)) expect(n).toBeGreaterThan(IN_PROCESS_RUNS / 50);
  });

  describe('over real gRPC', () => {
    let fn: LocalFunction;
    beforeAll(async () => {
      fn = await startLocalFunction(runFunction);
    });
    afterAll(async () => {
      await fn.stop();
    });

    it(`answers every request with a well-formed response (${GRPC_RUNS} requests)`, async () => {
      await fc.assert(
        fc.asyncProperty(rawRequest, async (req) => {
          const rsp = await fn.client.runFunction(req, 10_000);
          expect(rsp.meta?.tag).toBe(req.meta?.tag);
          expectWellFormed(rsp, JSON.stringify(RunFunctionRequest.toJSON(req)).slice(0, 3000));
        }),
        { numRuns: GRPC_RUNS, seed: propertySeed('FUZZ_GRPC_SEED') },
      );
    });
  });
});
