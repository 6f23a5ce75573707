// One claim API: the same requests go to the XRD's schema and CEL as the apiserver applies them
// (tests/lib/claim-admission.ts: the real validator when present) and to the function. Their
// verdicts agree, except where the function needs what the apiserver cannot see: the platform's
// settings (ENVIRONMENT_RULES). A request the apiserver admits and the function refuses would be
// refused on every reconcile; one it refuses and the function admits means a bypass is open.
// Requests: the claim generator's (seeded: PARITY_SEED replays), and edge values at every bound,
// enum and list size of the schema's field table (claim-api.generated.ts), so a new field is covered.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { CLAIM_FIELDS, composeSecureBucket, MINIMUM_STAY, Refusal, WATERFALL, type ClaimField } from '../../functions/secure-bucket/src/core/index.js';
import { claimOf, validSpec } from '../../tools/claim-generator.js';
import { exampleEnvironment } from '../../tools/workload.js';
import { claimValidator, type ClaimValidator } from '../lib/claim-admission.js';
import { repoRoot } from '../lib/repo.js';
import { propertySeed } from '../lib/seed.js';

type Json = Record<string, unknown>;

const environment = exampleEnvironment();
const data = environment['data'] as Json;
const REGION = String(data['region']);
const PREFIX = String(data['bucketNamePrefix']);
const NAMESPACE = 'team-fuzz';

/** Refusals that need the platform's settings: the apiserver cannot make them. */
const ENVIRONMENT_RULES: Array<{ why: string; field: RegExp; problem: RegExp }> = [
  { why: 'the platform region is an EnvironmentConfig setting', field: /^spec\.region$/, problem: /is not served by this cluster's S3 endpoint/ },
  { why: "the tenant's name prefix is an EnvironmentConfig setting", field: /^spec\.naming\.name$/, problem: /does not start with/ },
  {
    why: "the tenant's topic names come from its registered name segment",
    field: /^spec\.alarms\.snsTopicArn$/,
    problem: /is not one of this tenant's|not a topic of/,
  },
  { why: 'the platform audit bucket is an EnvironmentConfig setting', field: /^spec\.naming\.name$/, problem: /is the platform's audit bucket/ },
  {
    why: "the platform's alert topics per region are EnvironmentConfig settings",
    field: /^spec\.(alarms|replication\.destinationRegion)$/,
    problem: /the platform has no/,
  },
];

interface FunctionVerdict {
  admitted: boolean;
  reason?: string;
  /** Set when the refusal needs the environment (ENVIRONMENT_RULES). */
  environment?: string;
}

function functionVerdict(spec: Json): FunctionVerdict {
  try {
    composeSecureBucket({ composite: compositeForClaim(claimOf('parity', NAMESPACE, structuredClone(spec))), environmentData: data, observed: {} });
    return { admitted: true };
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    const rule = ENVIRONMENT_RULES.find((r) => r.field.test(err.field) && r.problem.test(err.problem));
    return { admitted: false, reason: err.message, ...(rule ? { environment: rule.why } : {}) };
  }
}

// ------------------------------------------------------------------ requests

const consumer = { name: 'app', serviceAccount: 'app', access: 'Read', prefixes: ['data/'] };
/** A spec that has every field (so every path has a parent to edit), valid as it is. */
function carrier(): Json {
  return {
    naming: { strategy: 'Fixed', name: `${PREFIX}-${NAMESPACE}-parity` },
    tls: { minimumVersion: '1.3' },
    consumers: [structuredClone(consumer)],
    objectLock: { mode: 'Governance', days: 1, governanceBypassConsumers: ['app'] },
    versioning: 'Enabled',
    lifecycle: {
      transitions: [{ days: 30, storageClass: 'STANDARD_IA' }],
      expireAfterDays: 36500,
      noncurrentVersionExpireAfterDays: 30,
      abortIncompleteMultipartUploadDays: 7,
      rules: [{ name: 'logs', prefix: 'logs/', transitions: [{ days: 30, storageClass: 'STANDARD_IA' }], expireAfterDays: 60 }],
    },
    metrics: true,
    alarms: { email: 'oncall@example.com' },
    replication: { destinationRegion: 'eu-west-1' },
  };
}

/** A string of `length` characters that matches the field's pattern where one can be built by repeating. */
function textOf(path: string, length: number): string {
  const n = Math.max(length, 0);
  if (path.endsWith('prefixes[]') || path.endsWith('.prefix')) return `${'a'.repeat(Math.max(n - 1, 0))}/`;
  if (path.endsWith('email')) return `${'a'.repeat(Math.max(n - 12, 0))}@example.com`;
  if (path.endsWith('snsTopicArn'))
    return `arn:aws:sns:${REGION}:111122223333:${NAMESPACE}-${'a'.repeat(Math.max(n - 44 - REGION.length + 9, 0))}`.slice(0, Math.max(n, 40));
  if (path.endsWith('naming.name')) return `${PREFIX}-${NAMESPACE}-${'a'.repeat(Math.max(n - PREFIX.length - NAMESPACE.length - 2, 0))}`.slice(0, n);
  if (path.endsWith('region') || path.endsWith('Region')) return 'eu-west-1';
  return 'a'.repeat(n);
}

/** Sets `value` at a field table path (`[]`: the first item) of a carrier spec. */
function withValue(path: string, value: unknown): Json {
  const spec = carrier();
  const steps = path.replace(/^spec\./, '').split('.');
  let node: Json = spec;
  steps.forEach((step, i) => {
    const isItem = step.endsWith('[]');
    const key = isItem ? step.slice(0, -2) : step;
    const last = i === steps.length - 1;
    if (last && !isItem) node[key] = value;
    else if (last) (node[key] as unknown[])[0] = value;
    else {
      // A field the carrier does not have yet (a new optional object): its parent is created.
      if (!isItem && node[key] === undefined) node[key] = {};
      node = (isItem ? (node[key] as Json[])[0] : node[key]) as Json;
    }
  });
  return spec;
}

/** Edge requests of one field: each bound, one past it, every enum value and one more. */
function edgesOf(path: ClaimField): Array<[string, Json]> {
  const f: {
    type: string;
    minimum?: number;
    maximum?: number;
    minLength?: number;
    maxLength?: number;
    minItems?: number;
    maxItems?: number;
    enum?: readonly unknown[];
  } = CLAIM_FIELDS[path];
  const out: Array<[string, Json]> = [];
  const at = (label: string, value: unknown) => out.push([`${path} ${label}`, withValue(path, value)]);
  if (f.enum) {
    for (const v of f.enum) at(`= ${String(v)}`, v);
    at('= not an enum value', 'Bogus');
  }
  if (f.type === 'integer') {
    for (const v of [f.minimum, f.maximum]) if (v !== undefined) at(`= ${v}`, v);
    if (f.minimum !== undefined) at(`= ${f.minimum - 1}`, f.minimum - 1);
    if (f.maximum !== undefined) at(`= ${f.maximum + 1}`, f.maximum + 1);
    at('= 1.5', 1.5);
  }
  if (f.type === 'string' && !f.enum) {
    if (f.maxLength !== undefined) {
      at(`of ${f.maxLength} chars`, textOf(path, f.maxLength));
      at(`of ${f.maxLength + 1} chars`, textOf(path, f.maxLength + 1));
    }
    if (f.minLength !== undefined) at(`of ${f.minLength - 1} chars`, textOf(path, f.minLength - 1));
    at('with a character outside its pattern', `${textOf(path, 5)}!`);
  }
  if (f.type === 'array' && path !== 'spec.objectLock.governanceBypassConsumers') {
    const item = firstItem(path);
    const distinct = (k: number) => Array.from({ length: k }, (_, j) => vary(item, j));
    if (f.maxItems !== undefined) {
      at(`with ${f.maxItems} items`, distinct(f.maxItems));
      at(`with ${f.maxItems + 1} items`, distinct(f.maxItems + 1));
    }
    if (f.minItems !== undefined) at(`with ${f.minItems - 1} items`, distinct(f.minItems - 1));
  }
  if (f.type === 'boolean') at('= "true" (a string)', 'true');
  return out;
}

function firstItem(path: string): unknown {
  let node: unknown = carrier();
  for (const step of path.replace(/^spec\./, '').split('.')) {
    const value = (node as Json)[step.replace(/\[\]$/, '')];
    node = step.endsWith('[]') ? (value as unknown[])[0] : value;
  }
  return (node as unknown[])[0];
}

/** The j-th distinct variant of a list item (names, prefixes and days made unique; days kept in order). */
function vary(item: unknown, j: number): unknown {
  if (typeof item === 'string') return item.endsWith('/') ? `p${j}/` : `${item}${j}`;
  const out = structuredClone(item) as Json;
  if (typeof out['name'] === 'string') out['name'] = `${String(out['name'])}${j}`;
  if (typeof out['serviceAccount'] === 'string') out['serviceAccount'] = `${String(out['serviceAccount'])}${j}`;
  if (typeof out['prefix'] === 'string') out['prefix'] = `p${j}/`;
  if (typeof out['days'] === 'number') out['days'] = 30 + 200 * j;
  return out;
}

/**
 * The five requests the two sides disagreed on: both refuse the first four now. The fifth
 * both admit: S3 accepts an expiry inside the last class's minimum stay and bills the rest, so it
 * renders with a warning naming both fields (issue 23: the documented GLACIER-at-90, expiry-100 case).
 */
const FIVE: Array<[string, Json]> = [
  ['a lifecycle rule with neither transitions nor expiry', { lifecycle: { rules: [{ name: 'logs', prefix: 'logs/' }] } }],
  ['a rule name of 50 characters', { lifecycle: { rules: [{ name: 'a'.repeat(50), prefix: 'logs/', expireAfterDays: 30 }] } }],
  ['alarms.email a!b@c.d', { alarms: { email: 'a!b@c.d' } }],
  ['a rule named noncurrent-versions', { lifecycle: { rules: [{ name: 'noncurrent-versions', prefix: 'logs/', expireAfterDays: 30 }] } }],
];
const ADMITTED_WITH_WARNING: Array<[string, Json]> = [
  ['STANDARD_IA at day 30 with expiry 31', { lifecycle: { transitions: [{ days: 30, storageClass: 'STANDARD_IA' }], expireAfterDays: 31 } }],
];

const GENERATED_RUNS = 300;
const seed = propertySeed('PARITY_SEED');
const generated: Array<[string, Json]> = fc
  .sample(validSpec(REGION, PREFIX, NAMESPACE), { seed, numRuns: GENERATED_RUNS })
  .map((spec, i) => [`generated #${i} (seed ${seed})`, spec as Json]);
const edges: Array<[string, Json]> = [['the carrier spec itself', carrier()], ...(Object.keys(CLAIM_FIELDS) as ClaimField[]).flatMap(edgesOf)];

// ------------------------------------------------------------------ verdicts

let validator: ClaimValidator;
const apiserver = new Map<string, { admitted: boolean; reasons: string[] }>();

beforeAll(async () => {
  validator = claimValidator();
  process.stdout.write(`parity: apiserver verdicts from ${validator.name}\n`);
  const all = [...FIVE, ...ADMITTED_WITH_WARNING, ...generated, ...edges];
  const verdicts = await validator.admit(all.map(([, spec]) => spec));
  all.forEach(([label], i) => apiserver.set(label, verdicts[i]!));
}, 120_000);

function disagreement(label: string, spec: Json): string | undefined {
  const api = apiserver.get(label)!;
  const fn = functionVerdict(spec);
  if (api.admitted === fn.admitted) return undefined;
  if (api.admitted && fn.environment !== undefined) return undefined;
  return api.admitted
    ? `${label}: the apiserver admits it, the function refuses it on every reconcile: ${fn.reason ?? ''}\n  spec: ${JSON.stringify(spec)}`
    : `${label}: the apiserver refuses it (${api.reasons.join('; ')}), the function admits it\n  spec: ${JSON.stringify(spec)}`;
}

describe('one claim API: the XRD and the function give one verdict', () => {
  it.each(FIVE)('%s: both refuse it', (label, spec) => {
    expect(apiserver.get(label)!.admitted).toBe(false);
    expect(functionVerdict(spec).admitted).toBe(false);
  });

  it.each(ADMITTED_WITH_WARNING)('%s: both admit it (the function warns)', (label, spec) => {
    expect(apiserver.get(label)!.admitted).toBe(true);
    expect(functionVerdict(spec).admitted).toBe(true);
  });

  it(`agrees on ${GENERATED_RUNS} generated claims (all admitted by both)`, () => {
    const problems = generated.map(([label, spec]) => disagreement(label, spec)).filter((d) => d !== undefined);
    expect(problems).toEqual([]);
    expect(generated.filter(([label]) => apiserver.get(label)!.admitted)).toHaveLength(GENERATED_RUNS);
  });

  it('agrees on edge values at every bound, enum and list size of the field table', () => {
    const problems = edges.map(([label, spec]) => disagreement(label, spec)).filter((d) => d !== undefined);
    expect(problems).toEqual([]);
    // Both verdicts occur: edges that all passed (or all failed) would prove little.
    const admitted = edges.filter(([label]) => apiserver.get(label)!.admitted).length;
    expect(admitted).toBeGreaterThan(edges.length / 4);
    expect(admitted).toBeLessThan(edges.length);
  });
});

describe('transition ordering has one table: the CEL rules encode spec-rules.ts', () => {
  const schema = readFileSync(path.join(repoRoot, 'compositions/schema/secure-bucket.yaml'), 'utf8');
  const maps = [...schema.matchAll(/\{('[A-Z_]+': \d+(?:, )?)+\}/g)].map((m) =>
    Object.fromEntries([...m[0].matchAll(/'([A-Z_]+)': (\d+)/g)].map((e) => [e[1]!, Number(e[2])])),
  );

  it('every minimum-stay map is MINIMUM_STAY (a stay of 0 is a day: one step per day)', () => {
    const stays = maps.filter((m) => m['STANDARD_IA'] === MINIMUM_STAY.STANDARD_IA);
    expect(stays.length).toBeGreaterThanOrEqual(2);
    for (const m of stays) expect(m).toEqual(Object.fromEntries(WATERFALL.map((c) => [c, Math.max(MINIMUM_STAY[c], 1)])));
  });

  it('every class-order map is WATERFALL', () => {
    const orders = maps.filter((m) => m['STANDARD_IA'] === 1);
    expect(orders.length).toBeGreaterThanOrEqual(4);
    for (const m of orders) expect(m).toEqual(Object.fromEntries(WATERFALL.map((c, i) => [c, i + 1])));
  });
});
