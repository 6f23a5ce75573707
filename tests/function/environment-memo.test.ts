// readEnvironment keeps its readings of an EnvironmentConfig (core/environment.ts): the key must be
// everything it reads. Two EnvironmentConfigs that differ in one field compose differently, in one
// process, in either order, and each answer equals the uncached one.
import { describe, expect, it } from '@jest/globals';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { composeSecureBucket, PlatformError, readEnvironment } from '../../functions/secure-bucket/src/core/index.js';
import { environmentConfig, exampleClaim, type Json } from '../lib/function-fixtures.js';

const composite = compositeForClaim(exampleClaim('sales-events'));

/**
 * Parsed here, as the decoder builds it: plain objects of this realm. (structuredClone's objects
 * come from jest's outer realm, whose Object.prototype is another: never memoised, read afresh.)
 */
function dataWith(patch: (data: Json) => void = () => {}): Json {
  return JSON.parse(JSON.stringify(environmentConfig(patch)['data'])) as Json;
}

function compose(data: Json): string {
  const environmentData = JSON.parse(JSON.stringify(data)) as Json;
  return JSON.stringify(composeSecureBucket({ composite: structuredClone(composite), environmentData, observed: {} }));
}

/** The same data under a prototype of its own: not plain JSON, so never memoised (read afresh). */
function uncached(data: Json): string {
  const root = Object.assign(Object.create({ unusual: true }) as Json, structuredClone(data));
  return JSON.stringify(composeSecureBucket({ composite: structuredClone(composite), environmentData: root, observed: {} }));
}

const variants: Array<[string, (d: Json) => void]> = [
  ['clusterName', (d) => (d['clusterName'] = 'prod')],
  ['a tenant nameSegment', (d) => (d['tenants'] = { ...(d['tenants'] as Json), 'team-sales': { nameSegment: 'sales' } })],
  ['kms.deletionWindowInDays', (d) => ((d['kms'] as Json)['deletionWindowInDays'] = 7)],
  ['identity.rolePath', (d) => ((d['identity'] as Json)['rolePath'] = '/other/')],
  ['access.breakGlassPrincipalArns', (d) => ((d['access'] as Json)['breakGlassPrincipalArns'] = ['arn:aws:iam::111122223333:role/other-break-glass'])],
];

describe('the memoised EnvironmentConfig reading is keyed on what it reads', () => {
  it('the data used here is memoised (else the tests below prove nothing)', () => {
    expect(readEnvironment(dataWith())).toBe(readEnvironment(dataWith()));
  });

  it.each(variants)('%s: A, B, A, B in one process compose as uncached', (_field, patch) => {
    const a = dataWith();
    const b = dataWith(patch);
    const expected = [uncached(a), uncached(b)];
    expect(expected[0]).not.toEqual(expected[1]);
    // A then B, and B then A: each answer is its own data's.
    const seen = [compose(a), compose(b), compose(a), compose(b)];
    expect(seen).toEqual([expected[0], expected[1], expected[0], expected[1]]);
  });

  it('a value JSON would print alike (NaN as null) is not mistaken for a kept reading', () => {
    const absent = dataWith((d) => ((d['kms'] as Json)['deletionWindowInDays'] = null));
    const nan = dataWith();
    (nan['kms'] as Json)['deletionWindowInDays'] = Number.NaN; // after the JSON round trip, which would print it null
    expect(readEnvironment(absent).kms.deletionWindowInDays).toBe(30);
    expect(() => readEnvironment(nan)).toThrow(PlatformError);
  });

  it('a reading is shared frozen: a caller cannot change what another render reads', () => {
    const env = readEnvironment(dataWith());
    expect(() => {
      (env as { clusterName: string }).clusterName = 'changed';
    }).toThrow(TypeError);
    expect(readEnvironment(dataWith()).clusterName).toBe('staging');
  });

  it('a refusal names the tenant to fix from the hint, whichever hint came first', () => {
    const clash = dataWith((d) => (d['tenants'] = { team: {}, 'team-sales': {} }));
    const fixFor = (namespace: string): string => {
      try {
        readEnvironment(clash, undefined, { namespace, existing: false });
      } catch (err) {
        return (err as PlatformError).field;
      }
      throw new Error('expected a refusal');
    };
    expect([fixFor('team'), fixFor('team-sales'), fixFor('team')]).toEqual([
      'EnvironmentConfig data.tenants.team.nameSegment',
      'EnvironmentConfig data.tenants.team-sales.nameSegment',
      'EnvironmentConfig data.tenants.team.nameSegment',
    ]);
  });
});
