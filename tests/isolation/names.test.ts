// No tenant renders an AWS name another tenant renders or could render. Namespaces that are
// hyphen-prefixes of each other ('team' and 'team-sales') are where this breaks: the platform
// registers each tenant's name segment, refuses segments that are hyphen-prefixes of one another,
// and names nothing for an unregistered namespace. Property test over such pairs, then the table.
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ClaimError, composeSecureBucket, type ManagedResource, readEnvironment } from '../../functions/secure-bucket/src/core/index.js';
import { convergeCore } from '../../functions/secure-bucket/cli/explain/policy-set.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { claimOf } from '../../tools/claim-generator.js';
import { environmentConfig, exampleClaim, type Json } from '../lib/function-fixtures.js';
import { propertySeed } from '../lib/seed.js';

const PAIRS = 1_000;
let tried = 0;
afterAll(() => {
  process.stdout.write(`isolation (names): ${tried} namespace pairs tried, one a hyphen-prefix of the other in each\n`);
});

const label = (min: number, max: number) =>
  fc.stringMatching(new RegExp(`^[a-z0-9]([a-z0-9-]{${Math.max(0, min - 2)},${max - 2}}[a-z0-9])?$`)).filter((s) => s.length >= min && s.length <= max);

/** Every AWS name a render asks for, by the scope AWS keeps names unique in. */
function awsNames(resources: Record<string, ManagedResource>): string[] {
  return Object.values(resources).flatMap((r) => {
    const names: string[] = [];
    const external = r.metadata.annotations?.['crossplane.io/external-name'];
    // A bucket's configurations carry their bucket's name: one name, not one per configuration.
    if (external !== undefined && !(r.kind.startsWith('Bucket') && r.kind !== 'Bucket') && r.kind !== 'Key') names.push(`${r.kind}:${external}`);
    const forProvider = r.spec['forProvider'] as Json;
    if (r.kind === 'AccessPoint') names.push(`AccessPoint:${String(forProvider['name'])}`);
    return names;
  });
}

function environmentWith(tenants: Json): Json {
  return environmentConfig((d) => (d['tenants'] = tenants))['data'] as Json;
}

function claimIn(namespace: string, name: string, spec: Json): Json {
  return compositeForClaim(claimOf(name, namespace, spec));
}

const consumers = (names: string[]) => names.map((n) => ({ name: n, serviceAccount: n, access: 'ReadWrite', prefixes: [`${n}/`], accessPoint: true }));

/** The names a claim renders once converged, or the Fatal it gets. */
function rendered(environmentData: Json, composite: Json): { names: string[] } | { refused: ClaimError } {
  try {
    return { names: awsNames(convergeCore(composite, environmentData).out.resources) };
  } catch (err) {
    if (err instanceof ClaimError) return { refused: err };
    throw err;
  }
}

describe('property: namespace pairs where one is the other plus "-suffix"', () => {
  const pair = fc.record({
    short: label(1, 20),
    suffix: label(1, 12),
    claimA: label(1, 63),
    claimB: label(1, 63),
    consumer: label(1, 20),
    replicate: fc.boolean(),
    fixedTail: label(1, 20),
  });

  it(`registering both under their own names is refused; with a distinct segment no name is shared (${PAIRS} pairs)`, () => {
    fc.assert(
      fc.property(pair, ({ short, suffix, claimA, claimB, consumer, replicate, fixedTail }) => {
        tried++;
        const long = `${short}-${suffix}`;
        // 1. The onboarding check: both namespaces as their own segment would let short's names read as long's.
        expect(() => readEnvironment(environmentWith({ [short]: {}, [long]: {} }))).toThrow(/hyphen-prefix/);

        // 2. Registered properly, the longer keeps its name and the shorter gets a segment of its own.
        const env = environmentWith({ [short]: { nameSegment: `${short}0` }, [long]: {} });
        const spec = (extra: Json = {}) => ({
          consumers: consumers([consumer]),
          alarms: {},
          ...(replicate ? { replication: { destinationRegion: 'eu-west-1' } } : {}),
          ...extra,
        });
        const a = rendered(env, claimIn(short, claimA, spec()));
        const b = rendered(env, claimIn(long, claimB, spec()));
        if (!('names' in a) || !('names' in b)) throw new Error(`a valid claim was refused: ${JSON.stringify([a, b])}`);
        expect(a.names.filter((n) => b.names.includes(n))).toEqual([]);

        // 3. The attacks: the shorter asks for every bucket name the longer renders, and for one it could render.
        const prefix = 'acme-stg';
        const theirs = b.names.filter((n) => n.startsWith('Bucket:')).map((n) => n.slice('Bucket:'.length));
        for (const name of [...theirs, `${prefix}-${long}-${fixedTail}`]) {
          const attempt = rendered(env, claimIn(short, claimA, spec({ naming: { strategy: 'Fixed', name } })));
          expect('refused' in attempt && attempt.refused.field).toBe('spec.naming.name');
        }
        // ... and the longer asks for a name inside the shorter's registered prefix.
        const reverse = rendered(env, claimIn(long, claimB, spec({ naming: { strategy: 'Fixed', name: `${prefix}-${short}0-${fixedTail}` } })));
        expect('refused' in reverse && reverse.refused.field).toBe('spec.naming.name');
      }),
      { numRuns: PAIRS, seed: propertySeed('NAMES_SEED', 20_261_201) },
    );
    expect(tried).toBeGreaterThanOrEqual(PAIRS);
  });
});

describe('names that cannot collide: the cases', () => {
  const sales = exampleClaim('sales-events');
  const salesBucket = 'acme-stg-team-sales-sales-events-109416fc';

  it('the reported takeover: namespace team asks for team-sales’ generated bucket by Fixed name', () => {
    const env = environmentWith({ team: { nameSegment: 'team0' }, 'team-sales': {}, 'team-inventory': {} });
    const own = rendered(env, compositeForClaim(sales));
    expect('names' in own && own.names).toContain(`Bucket:${salesBucket}`);
    const attack = rendered(env, claimIn('team', 'sales-sales-events', { consumers: consumers(['x']), naming: { strategy: 'Fixed', name: salesBucket } }));
    expect('refused' in attack && attack.refused.message).toMatch(
      /^spec\.naming\.name: 'acme-stg-team-sales-sales-events-109416fc' does not start with 'acme-stg-team0-'/,
    );
  });

  it('an EnvironmentConfig with team beside team-sales, both as themselves, is refused with the fix', () => {
    expect(() => readEnvironment(environmentWith({ team: {}, 'team-sales': {} }))).toThrow(
      /^EnvironmentConfig data\.tenants\.team\.nameSegment: 'team' \(team\) is a hyphen-prefix of team-sales's segment 'team-sales'.*Fix: give whichever of team and team-sales was added last \(the one without buckets yet\) its own nameSegment.*never change the segment of a tenant that has buckets/,
    );
  });

  it('two tenants with the same segment are refused', () => {
    expect(() => readEnvironment(environmentWith({ 'team-a': { nameSegment: 'shared' }, 'team-b': { nameSegment: 'shared' } }))).toThrow(
      /'shared' is the name segment of both team-a and team-b/,
    );
  });

  it('an unregistered namespace gets a Fatal for the platform team, and no name at all', () => {
    const out = () =>
      composeSecureBucket({
        composite: claimIn('team-unknown', 'x', { consumers: consumers(['x']) }),
        environmentData: environmentConfig()['data'],
        observed: {},
      });
    expect(out).toThrow(/^EnvironmentConfig data\.tenants: has no entry for namespace team-unknown.*Fix: the platform team registers team-unknown/);
  });

  it('a segment so long that a cut would remove it is refused', () => {
    expect(() => readEnvironment(environmentWith({ 'team-a': { nameSegment: 'a'.repeat(50) } }))).toThrow(
      /nameSegment: .* longer than the \d+ characters kept before a long name is cut/,
    );
  });

  it('existing tenants keep their names: the examples render the bucket names they always had', () => {
    const names = ['sales-events', 'scratch', 'audit-archive'].map((n) => {
      const r = rendered(environmentConfig()['data'] as Json, compositeForClaim(exampleClaim(n)));
      return 'names' in r ? r.names.find((x) => x.startsWith('Bucket:')) : undefined;
    });
    expect(names).toEqual([`Bucket:${salesBucket}`, 'Bucket:acme-stg-team-inventory-scratch-1028279b', 'Bucket:acme-stg-team-inventory-audit-archive']);
  });
});

describe('a managed replica is never re-pointed at another AWS name', () => {
  it('changing replication.destinationRegion of a replicating claim is a Fatal: the copy stays where it is', () => {
    const archive = compositeForClaim(exampleClaim('audit-archive'));
    const { input } = convergeCore(archive, environmentConfig()['data']);
    const moved = structuredClone(archive);
    ((moved['spec'] as Json)['replication'] as Json)['destinationRegion'] = 'eu-central-1';
    expect(() => composeSecureBucket({ composite: moved, environmentData: environmentConfig()['data'], observed: input.observed })).toThrow(
      /^spec\.replication\.destinationRegion: would move the replica from s3:\/\/acme-stg-team-inventory-audit-archive-eu-west-1-[0-9a-f]{8} to a new bucket in eu-central-1/,
    );
  });
});

describe('observed state from the wire is never trusted to be well-formed', () => {
  // Found by tests/fuzz/requests.test.ts: a managed resource reported with atProvider null.
  it.each([null, 'x', 42, []])('atProvider %p and odd conditions are no report, not a crash', (atProvider) => {
    const observed = {
      bucket: { resource: { apiVersion: 'kms.aws.upbound.io/v1beta1', kind: 'Key', status: { atProvider, conditions: ['x', null, { type: 'Synced' }] } } },
      'bucket-object-lock': { resource: { status: { atProvider, conditions: 'Synced' } } },
    } as unknown as Parameters<typeof composeSecureBucket>[0]['observed'];
    const out = composeSecureBucket({ composite: compositeForClaim(exampleClaim('audit-archive')), environmentData: environmentConfig()['data'], observed });
    expect(out.resources['bucket']).toBeDefined();
  });
});
