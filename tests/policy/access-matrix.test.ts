// Issue 3: least privilege for every consumer, proven by policy evaluation. For each example claim
// every combination of principal x action family x place x path is evaluated with the simulator and
// compared with an expectation derived from the short rule set below (written from the issue, not
// from the policies under test). Zero unexpected allows, zero unexpected denies.
import { describe, expect, it } from '@jest/globals';
import {
  explainMatrix,
  FAMILIES,
  FAMILY_ACTION,
  formatMatrix,
  principalsOf,
  spotsFor,
  targetFor,
  type Family,
  type Place,
  type Principal,
} from '../../functions/secure-bucket/cli/explain/matrix.js';
import { exampleClaim, withSpec } from '../lib/function-fixtures.js';
import {
  evaluateS3,
  exampleBucketSets,
  examplePolicySets,
  namespacedPolicySetFor,
  paths,
  platformBoundary,
  policySetFor,
  type Caller,
  type ConsumerPolicies,
  type Path,
  type PolicySet,
  type TlsVersion,
} from '../lib/simulate.js';

// ---- The rule set --------------------------------------------------------------------------
const FAMILIES_OF_ACCESS: Record<ConsumerPolicies['access'], Family[]> = {
  Read: ['read', 'list'],
  Write: ['write'],
  ReadWrite: ['read', 'list', 'write', 'delete'],
};
const TLS_RANK: Record<TlsVersion, number> = { '1.0': 0, '1.1': 1, '1.2': 2, '1.3': 3 };

interface Case {
  principal: Principal;
  family: Family;
  place: Place;
  prefix: string;
  path: Path;
}

/** Whose access point a path goes through, if any. */
function accessPointOwner(set: PolicySet, path: Path): ConsumerPolicies | undefined {
  return set.consumers.find((c) => c.accessPointArn !== undefined && c.accessPointArn === path.accessPointArn);
}

/**
 * 1. Nothing without TLS at or above the claim's minimum. 2. Nothing for the public, the node
 * role, or another namespace's role. 3. Break-glass: everything but writing new data (it may not
 * generate data keys), never through a consumer's access point, from anywhere. 4. A consumer: only
 * via the endpoint (never the internet); through its own access point if it has one, else
 * directly on the bucket; only within its own prefixes; only its access level's families.
 */
function expectedAllowed(set: PolicySet, c: Case): boolean {
  if (c.path.tls === undefined || TLS_RANK[c.path.tls] < TLS_RANK[set.minimumTls]) return false;
  const via = accessPointOwner(set, c.path);
  switch (c.principal.kind) {
    case 'anonymous':
    case 'node':
    case 'other-namespace':
      return false;
    case 'break-glass':
      return via === undefined && c.family !== 'write';
    case 'provider':
      // The bucket's configuration, from anywhere the provider runs, and listing (HeadBucket, the
      // provider's existence check, needs s3:ListBucket) only through the endpoint it runs behind
      // (issue 19 finding 8; a replica elsewhere is out of that endpoint's reach); never the objects.
      return via === undefined && (c.family === 'policy-admin' || (c.family === 'list' && (c.path.viaEndpoint || set.region !== set.env.region)));
    case 'consumer': {
      const me = c.principal.consumer as ConsumerPolicies;
      if (!c.path.viaEndpoint) return false;
      if (me.accessPointArn !== undefined ? via?.name !== me.name : via !== undefined) return false;
      if (c.family === 'policy-admin') return false;
      if (!me.prefixes.some((p) => c.prefix.startsWith(p))) return false;
      return FAMILIES_OF_ACCESS[me.access].includes(c.family);
    }
  }
}

// ---- The cases -----------------------------------------------------------------------------
const ALL_TLS: TlsVersion[] = ['1.0', '1.1', '1.2', '1.3'];

function allPaths(set: PolicySet): Path[] {
  const aps = set.consumers.flatMap((c) =>
    c.accessPointArn ? [paths.accessPoint(c.accessPointArn, '1.3', c.name), paths.accessPoint(c.accessPointArn, '1.1', `${c.name}+tls1.1`)] : [],
  );
  return [...ALL_TLS.map(paths.endpoint), paths.endpointPlainHttp(), paths.internet('1.3'), paths.internet('1.2'), ...aps];
}

/** Every prefix of every consumer (the principal's own, the others'), and the bucket root. */
function casesFor(set: PolicySet): Case[] {
  const out: Case[] = [];
  for (const principal of principalsOf(set)) {
    const spots = spotsFor(set, principal);
    for (const family of FAMILIES) {
      for (const { place, prefix } of family === 'policy-admin' ? spots.filter((x) => x.place === 'bucket-root') : spots) {
        for (const path of allPaths(set)) out.push({ principal, family, place, prefix, path });
      }
    }
  }
  return out;
}

const describeCase = (c: Case): string => `${c.principal.label} ${c.family} ${c.place}(${c.prefix || '/'}) via ${c.path.id}`;

/** The whole matrix of `set` against the rule set: no unexpected allow, no unexpected deny, not vacuous. */
async function expectMatrixMatchesRules(set: PolicySet): Promise<void> {
  const cases = casesFor(set);
  const unexpected: string[] = [];
  let allowed = 0;
  for (const c of cases) {
    const decision = await evaluateS3(set, {
      caller: c.principal.caller,
      action: FAMILY_ACTION[c.family],
      target: targetFor(c.family, c.prefix),
      path: c.path,
    });
    if (decision.allowed) allowed++;
    const want = expectedAllowed(set, c);
    if (decision.allowed !== want)
      unexpected.push(`${describeCase(c)}: expected ${want ? 'Allowed' : 'Denied'}, got ${decision.result} (${decision.decidedBy})`);
  }
  expect(cases.length).toBeGreaterThanOrEqual(100);
  // Every principal kind and every family appears, and some requests are allowed: not vacuous.
  const kinds = ['node', 'provider', 'break-glass', 'anonymous', ...(set.consumers.length > 0 ? ['consumer', 'other-namespace'] : [])];
  expect(new Set(cases.map((c) => c.principal.kind))).toEqual(new Set(kinds));
  expect(allowed).toBeGreaterThan(0);
  expect(unexpected).toEqual([]);
}

describe.each(exampleBucketSets())('access matrix of $file', ({ set }) => {
  it('matches the rule set in every request context: no unexpected allow, no unexpected deny', () => expectMatrixMatchesRules(set));
});

describe('access matrix of a v2 render (namespaced family)', () => {
  it('sales-events as a namespaced XSecureBucket, rendered through the function, matches the rule set', async () => {
    const set = await namespacedPolicySetFor(exampleClaim('sales-events'));
    expect(Object.values(set.resources).every((r) => r.apiVersion.includes('.aws.m.upbound.io/'))).toBe(true);
    expect(set.consumers.filter((c) => c.accessPointArn !== undefined).length).toBeGreaterThan(0);
    await expectMatrixMatchesRules(set);
  });
});

describe("the seed's access-point scenario (sales-events)", () => {
  const found = examplePolicySets().find((s) => s.claim.metadata.name === 'sales-events');
  if (!found) throw new Error('example claim sales-events is missing');
  const set = found.set;
  const consumer = (name: string): ConsumerPolicies => {
    const c = set.consumers.find((x) => x.name === name);
    if (!c) throw new Error(`no consumer ${name}`);
    return c;
  };
  const caller = (c: ConsumerPolicies): Caller => ({
    id: c.name,
    arn: c.roleArn,
    identityPolicies: [{ name: 'bucket-access', policy: c.accessPolicy }],
    boundary: platformBoundary(set.env),
  });
  const put = (c: ConsumerPolicies, key: string, path: Path) =>
    evaluateS3(set, { caller: caller(c), action: 's3:PutObject', target: { kind: 'object', key }, path });

  it.each([
    ['sales-api', 'sales_event/', 'inventory_event/'],
    ['inventory-sync', 'inventory_event/', 'sales_event/'],
  ])('%s writes %s… through its access point and nothing else', async (name, own, other) => {
    const c = consumer(name);
    const viaOwnAp = paths.accessPoint(c.accessPointArn as string, '1.2');
    expect(await put(c, `${own}2024/01/01/e.json`, viaOwnAp)).toMatchObject({ allowed: true });
    expect(await put(c, 'e.json', viaOwnAp)).toMatchObject({ allowed: false });
    expect(await put(c, `${other}2024/01/01/e.json`, viaOwnAp)).toMatchObject({ allowed: false });
    // Not around the access point: directly on the bucket, even to its own prefix.
    expect(await put(c, `${own}2024/01/01/e.json`, paths.endpoint('1.2'))).toMatchObject({ allowed: false });
    // Not through the other consumer's access point.
    const otherAp = set.consumers.find((x) => x.accessPointArn && x.name !== name)?.accessPointArn as string;
    expect(await put(c, `${own}2024/01/01/e.json`, paths.accessPoint(otherAp, '1.2'))).toMatchObject({ allowed: false });
  });
});

describe('the printed matrix (render --explain-access)', () => {
  const long = 'a/very/long/prefix/that/is/wider/than/any/column/of/the/table/';
  const claim = withSpec(exampleClaim('sales-events'), (s) => {
    const consumers = s['consumers'] as Array<{ prefixes: string[] }>;
    consumers[0]!.prefixes = [...consumers[0]!.prefixes, long];
  });
  const set = policySetFor(claim);

  it('has a row for every prefix of every consumer, for every principal', async () => {
    const text = formatMatrix(set, await explainMatrix(set));
    const blocks = text.split('\n\n').slice(1);
    expect(blocks).toHaveLength(principalsOf(set).length);
    for (const block of blocks) for (const prefix of set.consumers.flatMap((c) => c.prefixes)) expect(block).toContain(`read ${prefix} `);
  });

  it('keeps every cell under its column header, however long the prefix', async () => {
    const text = formatMatrix(set, await explainMatrix(set));
    for (const block of text.split('\n\n').slice(1)) {
      const lines = block.split('\n');
      const header = lines[1] as string;
      const starts = [...header.matchAll(/(?<=\s)(\S+)/g)].map((m) => m.index as number).slice(1); // after "request"
      for (const row of lines.slice(2, -1)) {
        const cells = [...row.matchAll(/(ALLOW|deny)\[\d+\]|(?<=\s)-(?=\s|$)/g)].map((m) => m.index as number);
        expect({ row, cells }).toEqual({ row, cells: starts });
      }
    }
  });
});

describe('a claim without consumers', () => {
  it('only break-glass reaches the data (as the Warning says); the provider only the configuration', async () => {
    const set = policySetFor(withSpec(exampleClaim('scratch'), (s) => (s['consumers'] = [])));
    const rows = await explainMatrix(set);
    const dataAllowedBy = new Set(rows.filter((r) => r.decision.allowed && !['policy-admin', 'list'].includes(r.family)).map((r) => r.principal.kind));
    expect(dataAllowedBy).toEqual(new Set(['break-glass']));
    const configAllowedBy = new Set(rows.filter((r) => r.decision.allowed && r.family === 'policy-admin').map((r) => r.principal.kind));
    expect(configAllowedBy).toEqual(new Set(['break-glass', 'provider']));
    expect(rows.some((r) => r.family === 'read' && r.place !== 'bucket-root')).toBe(true);
  });
});
