// Valid XSecureBucketClaims drawn from the whole claim API (fast-check arbitraries): the bench
// renders thousands of distinct ones, and the fuzz and parity tests start from them. The domains
// (enums, bounds, list sizes) and the transition rules come from the core's schema-generated table
// and spec-rules.ts, never copied here.
import fc from 'fast-check';
import { type Claim, XR_API_VERSION } from '../functions/secure-bucket/cli/control-plane/index.js';
import { CLAIM_FIELDS, ENUMS, MINIMUM_AGE, MINIMUM_STAY, RESERVED_RULE_IDS, WATERFALL } from '../functions/secure-bucket/src/core/index.js';

type Spec = Record<string, unknown>;

const LOWER = [...'abcdefghijklmnopqrstuvwxyz'];
const DIGITS = [...'0123456789'];

/** A word of `first` then up to `maxRest` of `rest` (cheap: fast-check's stringMatching is slow to sample). */
function word(first: string[], rest: string[], maxRest: number): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...first), fc.array(fc.constantFrom(...rest), { maxLength: maxRest })).map(([f, r]) => f + r.join(''));
}

/** DNS label: lowercase letter first, no trailing hyphen. */
const dnsLabel = word(LOWER, [...LOWER, ...DIGITS, '-'], 14).map((w) => w.replace(/-+$/, ''));
/** Key prefix: one or two segments, each ending in '/'. */
const segment = word([...LOWER, ...DIGITS], [...LOWER, ...DIGITS, '_', '.', '=', '-'], 10).map((w) => `${w}/`);
const prefix = fc.tuple(segment, fc.option(segment, { nil: '' })).map(([a, b]) => a + b);
const days = fc.integer({ min: 1, max: 3650 });

const gap = fc.integer({ min: 0, max: 200 });

/** Transitions down the waterfall, each after the previous class's minimum stay; the day objects may expire. */
const waterfall = fc
  .tuple(fc.subarray([...WATERFALL], { maxLength: CLAIM_FIELDS['spec.lifecycle.transitions'].maxItems }), fc.array(gap, { minLength: 6, maxLength: 6 }))
  .map(([classes, gaps]) => {
    let day = 0;
    let earliest = 0;
    const transitions = classes.map((storageClass, i) => {
      day = Math.max(earliest, MINIMUM_AGE[storageClass] ?? 0) + gaps[i]!;
      earliest = day + Math.max(MINIMUM_STAY[storageClass], 1);
      return { days: day, storageClass };
    });
    return { transitions, earliestExpiry: Math.max(earliest, 1) };
  });

const rule = fc.record({
  name: dnsLabel.filter((n) => !RESERVED_RULE_IDS.includes(n)),
  prefix,
  plan: waterfall,
  expireAfter: fc.option(gap, { nil: undefined }),
});

/** A lifecycle S3 accepts; `noncurrentVersionExpireAfterDays` only comes with versioning Enabled (see validSpec). */
const lifecycle = fc
  .record({
    plan: waterfall,
    expireAfter: fc.option(gap, { nil: undefined }),
    noncurrentVersionExpireAfterDays: fc.option(days, { nil: undefined }),
    abortIncompleteMultipartUploadDays: fc.option(
      fc.integer({
        min: CLAIM_FIELDS['spec.lifecycle.abortIncompleteMultipartUploadDays'].minimum,
        max: CLAIM_FIELDS['spec.lifecycle.abortIncompleteMultipartUploadDays'].maximum,
      }),
      { nil: undefined },
    ),
    rules: fc.uniqueArray(rule, { maxLength: 3, selector: (r) => r.name }).map((rs) => rs.filter((r, i) => rs.findIndex((o) => o.prefix === r.prefix) === i)),
  })
  .map(({ plan, expireAfter, rules, ...rest }) => {
    // A rule needs an action: without transitions it always expires.
    const ruleSpecs = rules.map((r) => ({
      name: r.name,
      prefix: r.prefix,
      transitions: r.plan.transitions,
      ...(r.expireAfter === undefined && r.plan.transitions.length > 0 ? {} : { expireAfterDays: r.plan.earliestExpiry + (r.expireAfter ?? 0) }),
    }));
    // S3 lets the earliest expiration win, so the whole-bucket one must not undercut a rule's.
    const longestRule = Math.max(0, ...ruleSpecs.map((r) => r.expireAfterDays ?? 0));
    const out: Spec = { transitions: plan.transitions, rules: ruleSpecs };
    if (expireAfter !== undefined) out['expireAfterDays'] = Math.max(plan.earliestExpiry + expireAfter, longestRule);
    for (const [k, v] of Object.entries(rest)) if (v !== undefined) out[k] = v;
    return out;
  });

const consumers = fc.uniqueArray(
  fc.record(
    {
      name: dnsLabel,
      serviceAccount: dnsLabel,
      access: fc.constantFrom(...ENUMS.AccessLevel),
      prefixes: fc.uniqueArray(prefix, { minLength: 1, maxLength: 3 }),
      accessPoint: fc.boolean(),
    },
    { requiredKeys: ['name', 'serviceAccount', 'access', 'prefixes'] },
  ),
  { minLength: 1, maxLength: 6, selector: (c) => c.name },
);

/** Object lock whose bypass list names only the claim's own consumers (Governance only). */
function objectLockFor(names: string[]): fc.Arbitrary<Spec | undefined> {
  const { days: lockDays, years: lockYears } = { days: CLAIM_FIELDS['spec.objectLock.days'], years: CLAIM_FIELDS['spec.objectLock.years'] };
  const period = fc.oneof(
    fc.record({ days: fc.integer({ min: lockDays.minimum, max: lockDays.maximum }) }),
    fc.record({ years: fc.integer({ min: lockYears.minimum, max: lockYears.maximum }) }),
  );
  return fc.option(
    fc.oneof(
      period.map((p) => ({ mode: 'Compliance', ...p })),
      fc
        .tuple(period, fc.subarray(names))
        .map(([p, bypass]) => ({ mode: 'Governance', ...p, ...(bypass.length > 0 ? { governanceBypassConsumers: bypass } : {}) })),
    ),
    { nil: undefined },
  );
}

/** A valid claim spec of `namespace` in `region`: Fixed names start with `<platform prefix>-<namespace>-`, the alert topic is the tenant's own. */
export function validSpec(region: string, bucketNamePrefix: string, namespace: string): fc.Arbitrary<Spec> {
  const fixedNamePrefix = `${bucketNamePrefix}-${namespace}`;
  return consumers.chain((cs) =>
    fc
      .record(
        {
          region: fc.constant(region),
          naming: fc.oneof(
            fc.constant({ strategy: 'Generated' }),
            word([...LOWER, ...DIGITS], [...LOWER, ...DIGITS], 19).map((n) => ({ strategy: 'Fixed', name: `${fixedNamePrefix}-${n}` })),
          ),
          tls: fc.record({ minimumVersion: fc.constantFrom(...ENUMS.TlsVersion) }),
          versioning: fc.constantFrom(...ENUMS.Versioning),
          lifecycle,
          metrics: fc.boolean(),
          alarms: fc.oneof(
            fc.constant({ email: 'oncall@example.com' }),
            fc.constant({ snsTopicArn: `arn:aws:sns:${region}:111122223333:${namespace}-alerts` }),
          ),
          replication: fc.constant({ destinationRegion: region === 'eu-west-1' ? 'us-east-1' : 'eu-west-1' }),
          objectLock: objectLockFor(cs.map((c) => c.name)),
        },
        { requiredKeys: [] },
      )
      .map((spec) => {
        const out: Spec = { ...spec, consumers: cs };
        if (out['objectLock'] === undefined) delete out['objectLock'];
        // Noncurrent versions exist only in a versioned bucket.
        if ((spec.lifecycle as Spec | undefined)?.['noncurrentVersionExpireAfterDays'] !== undefined) out['versioning'] = 'Enabled';
        return out;
      }),
  );
}

export function claimOf(name: string, namespace: string, spec: Spec): Claim {
  return { apiVersion: XR_API_VERSION, kind: 'XSecureBucketClaim', metadata: { name, namespace }, spec };
}

const MAX_NAMESPACES = 50;
/** The namespaces generated claims live in (the bench and the fuzz tests register them as tenants). */
export const GENERATED_NAMESPACES = [...Array.from({ length: MAX_NAMESPACES }, (_, n) => `team-${n}`), 'team-fuzz'];

/** `count` distinct valid claims (distinct names, varied specs), the same ones for the same seed. */
export function generateClaims(count: number, opts: { region: string; bucketNamePrefix: string; seed?: number; namespaces?: number }): Claim[] {
  const namespaces = Math.min(opts.namespaces ?? MAX_NAMESPACES, MAX_NAMESPACES);
  const specsPerNamespace = GENERATED_NAMESPACES.slice(0, namespaces);
  const claims: Claim[] = [];
  const perNs = Math.ceil(count / namespaces);
  specsPerNamespace.forEach((namespace, n) => {
    const specs = fc.sample(validSpec(opts.region, opts.bucketNamePrefix, namespace), {
      seed: (opts.seed ?? 42) + n,
      numRuns: Math.min(perNs, count - claims.length),
    });
    specs.forEach((spec, i) => claims.push(claimOf(`bucket-${i}`, namespace, spec)));
  });
  return claims;
}
