// The adapter keeps its readings of the EnvironmentConfig (src/environment-cache.ts): the key must be
// everything readEnvironment reads. Requests that differ only in one EnvironmentConfig field get
// different answers, in one process, in either order, each byte for byte the uncached answer.
import { describe, expect, it } from '@jest/globals';
import { RunFunctionRequest } from '@crossplane-org/function-sdk-typescript';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { knownEnvironment } from '../../functions/secure-bucket/src/environment-cache.js';
import { ENVIRONMENT_REQUIREMENT, runFunctionSync } from '../../functions/secure-bucket/src/function.js';
import { wireCodec } from '../../functions/secure-bucket/src/wire.js';
import { environmentConfig, exampleClaim, type Json } from '../lib/function-fixtures.js';

const composite = compositeForClaim(exampleClaim('sales-events'));

/** The request bytes as Crossplane sends them, with the EnvironmentConfig supplied. */
function requestWith(patch: (data: Json) => void = () => {}): Buffer {
  const env = environmentConfig(patch);
  const req = RunFunctionRequest.fromPartial({
    meta: { tag: 't' },
    observed: { composite: { resource: composite } },
    requiredResources: { [ENVIRONMENT_REQUIREMENT]: { items: [{ resource: env }] } },
  });
  return Buffer.from(RunFunctionRequest.encode(req).finish());
}

function dataOf(req: RunFunctionRequest): Json {
  return req.requiredResources[ENVIRONMENT_REQUIREMENT]!.items[0]!.resource!['data'] as Json;
}

/** Decoded as the server does (objects of this realm, so the reading is kept), answered, encoded. */
function answer(bytes: Buffer): string {
  return Buffer.from(wireCodec.encode(runFunctionSync(wireCodec.decode(bytes)))).toString('base64');
}

/** The same, with the data under a prototype of its own: not plain JSON, so never kept (read afresh). */
function uncached(bytes: Buffer): string {
  const req = wireCodec.decode(bytes);
  Object.setPrototypeOf(dataOf(req), Object.create(Object.prototype));
  const once = knownEnvironment(dataOf(req));
  if (once !== undefined) expect(knownEnvironment(dataOf(req))).not.toBe(once);
  return Buffer.from(wireCodec.encode(runFunctionSync(req))).toString('base64');
}

const variants: Array<[string, (d: Json) => void]> = [
  ['clusterName', (d) => (d['clusterName'] = 'prod')],
  ['a tenant nameSegment', (d) => (d['tenants'] = { ...(d['tenants'] as Json), 'team-sales': { nameSegment: 'sales' } })],
  ['kms.deletionWindowInDays', (d) => ((d['kms'] as Json)['deletionWindowInDays'] = 7)],
  ['identity.rolePath', (d) => ((d['identity'] as Json)['rolePath'] = '/other/')],
  ['access.breakGlassPrincipalArns', (d) => ((d['access'] as Json)['breakGlassPrincipalArns'] = ['arn:aws:iam::111122223333:role/other-break-glass'])],
  // Refused (a Fatal worded for this tenant): refusals are never kept.
  ['tenants that clash', (d) => (d['tenants'] = { team: {}, 'team-sales': {} })],
];

describe('the kept EnvironmentConfig readings are keyed on what readEnvironment reads', () => {
  it('the decoded data is kept (else the tests below prove nothing)', () => {
    const a = knownEnvironment(dataOf(wireCodec.decode(requestWith())));
    expect(a).toBeDefined();
    expect(knownEnvironment(dataOf(wireCodec.decode(requestWith())))).toBe(a);
  });

  it.each(variants)('%s: A, B, A, B in one process answer as uncached', (_field, patch) => {
    const a = requestWith();
    const b = requestWith(patch);
    const expected = [uncached(a), uncached(b)];
    expect(expected[0]).not.toEqual(expected[1]);
    // A then B, and B then A: each answer is its own request's.
    expect([answer(a), answer(b), answer(a), answer(b)]).toEqual([expected[0], expected[1], expected[0], expected[1]]);
  });

  it('a value JSON prints alike (NaN as null) is not mistaken for a kept reading', () => {
    const absent = dataOf(wireCodec.decode(requestWith((d) => ((d['kms'] as Json)['deletionWindowInDays'] = null))));
    const nan = dataOf(wireCodec.decode(requestWith()));
    (nan['kms'] as Json)['deletionWindowInDays'] = Number.NaN;
    expect(knownEnvironment(absent)?.kms.deletionWindowInDays).toBe(30);
    expect(knownEnvironment(nan)).toBeUndefined();
  });

  it('a reading is shared frozen: a write throws instead of reaching another render', () => {
    const env = knownEnvironment(dataOf(wireCodec.decode(requestWith())))!;
    expect(() => {
      (env as { clusterName: string }).clusterName = 'changed';
    }).toThrow(TypeError);
    expect(knownEnvironment(dataOf(wireCodec.decode(requestWith())))!.clusterName).toBe('staging');
  });
});
