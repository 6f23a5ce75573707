// The spec's own rules beyond per-field limits, in one place: the reader (claim.ts) reports them,
// the lifecycle renderer and the bench generator use the same tables, and the schema's CEL encodes
// them for the apiserver (tests/xrd/parity.test.ts proves both give one verdict). A leaf: it
// imports only types, so the claim reader does not pull in any renderer.
import { ClaimError, type BucketSpec, type Lifecycle, type StorageClass, type Transition } from './types.js';

/** Rule ids the platform's own lifecycle rules use (lifecycle.ts). */
export const RESERVED_RULE_IDS = ['default', 'abort-incomplete-multipart-uploads', 'noncurrent-versions'];

/** A consumer name the platform keeps for itself (the replication role is named like a consumer's). */
export const RESERVED_CONSUMER_NAME = 'replication';

/** S3's transition waterfall: objects only move down it, never back up. */
export const WATERFALL: readonly StorageClass[] = ['STANDARD_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'];

/**
 * Days an object must stay in a class before it moves on or expires: S3's minimum storage
 * durations. AWS rejects less after STANDARD_IA and bills early deletion for the others.
 */
export const MINIMUM_STAY: Readonly<Record<StorageClass, number>> = { STANDARD_IA: 30, INTELLIGENT_TIERING: 0, GLACIER_IR: 90, GLACIER: 90, DEEP_ARCHIVE: 180 };

/** STANDARD_IA (and ONEZONE_IA) take only objects at least 30 days old. */
export const MINIMUM_AGE: Readonly<Partial<Record<StorageClass, number>>> = { STANDARD_IA: 30 };

/** The first day objects may leave `t`'s class (move on or expire): at least the day after. */
export function earliestAfter(t: Transition): number {
  return t.days + Math.max(MINIMUM_STAY[t.storageClass], 1);
}

export function versioningRequired(ctx: { spec: Pick<BucketSpec, 'objectLock' | 'replication' | 'versioning'> }): boolean {
  const { spec } = ctx;
  return spec.objectLock !== undefined || spec.replication !== undefined || spec.versioning === 'Enabled';
}

/** The problems of one rule's transitions and expiration; `field` is the claim path of the rule. */
export function transitionProblems(rule: string, field: string, transitions: Transition[], expireAfterDays: number | undefined): ClaimError[] {
  const out: ClaimError[] = [];
  let previous: Transition | undefined;
  transitions.forEach((t, i) => {
    const at = `${field}.transitions[${i}]`;
    const minimumAge = MINIMUM_AGE[t.storageClass] ?? 0;
    if (t.days < minimumAge) {
      out.push(
        new ClaimError(
          `${at}.days`,
          `rule '${rule}' moves objects to ${t.storageClass} after ${t.days} days; AWS needs at least ${minimumAge}`,
          `set ${at}.days to ${minimumAge} or more`,
        ),
      );
    }
    if (previous) {
      if (WATERFALL.indexOf(t.storageClass) <= WATERFALL.indexOf(previous.storageClass)) {
        out.push(
          new ClaimError(
            `${at}.storageClass`,
            `rule '${rule}' moves objects from ${previous.storageClass} to ${t.storageClass}, which S3 cannot do (order: ${WATERFALL.join(' -> ')})`,
            `list the transitions of '${rule}' in that order, each to a colder class`,
          ),
        );
      }
      const earliest = earliestAfter(previous);
      if (t.days < earliest) {
        out.push(
          new ClaimError(
            `${at}.days`,
            `rule '${rule}' moves objects to ${t.storageClass} after ${t.days} days, but they reach ${previous.storageClass} only at day ${previous.days} and must stay ${MINIMUM_STAY[previous.storageClass]} days there`,
            `set ${at}.days to ${earliest} or more`,
          ),
        );
      }
    }
    previous = t;
  });
  // S3 accepts an expiration inside the last class's minimum stay and bills the rest of it
  // (compositions/README.md): refused only when it is not after the last transition; the billed
  // shortfall is a warning (warnings.ts), as the schema's CEL says.
  if (expireAfterDays !== undefined && previous && expireAfterDays <= previous.days) {
    out.push(
      new ClaimError(
        `${field}.expireAfterDays`,
        `rule '${rule}' expires objects after ${expireAfterDays} days, not after their move to ${previous.storageClass} at day ${previous.days}`,
        `set ${field}.expireAfterDays to ${previous.days + 1} or more, or drop the last transition`,
      ),
    );
  }
  return out;
}

/** Every lifecycle problem of a claim: the combinations S3 would reject or silently ignore. */
export function ruleProblems(lc: Lifecycle, versioned: boolean): ClaimError[] {
  const out = transitionProblems('default', 'spec.lifecycle', lc.transitions, lc.expireAfterDays);
  if (lc.noncurrentVersionExpireAfterDays !== undefined && !versioned) {
    out.push(
      new ClaimError(
        'spec.lifecycle.noncurrentVersionExpireAfterDays',
        'is set but the bucket is not versioned (no object lock, replication or versioning: Enabled)',
        'remove it, or set spec.versioning: Enabled',
      ),
    );
  }
  const names = new Set<string>();
  const prefixes = new Set<string>();
  lc.rules.forEach((rule, i) => {
    const field = `spec.lifecycle.rules[${i}]`;
    if (RESERVED_RULE_IDS.includes(rule.name)) {
      out.push(
        new ClaimError(`${field}.name`, `'${rule.name}' is reserved for the platform's own rules`, `choose another name (not ${RESERVED_RULE_IDS.join(', ')})`),
      );
    }
    if (names.has(rule.name)) out.push(new ClaimError(`${field}.name`, `'${rule.name}' is used by another rule`, 'give every rule its own name'));
    if (prefixes.has(rule.prefix)) out.push(new ClaimError(`${field}.prefix`, `'${rule.prefix}' has another rule already`, 'merge the two rules into one'));
    names.add(rule.name);
    prefixes.add(rule.prefix);
    if (rule.transitions.length === 0 && rule.expireAfterDays === undefined) {
      out.push(
        new ClaimError(
          field,
          `rule '${rule.name}' has neither transitions nor expireAfterDays, so it does nothing`,
          'add transitions or expireAfterDays, or remove the rule',
        ),
      );
    }
    out.push(...transitionProblems(rule.name, field, rule.transitions, rule.expireAfterDays));
    // The whole-bucket rule applies under every prefix too, and S3 lets the earliest expiration win.
    if (rule.expireAfterDays !== undefined && lc.expireAfterDays !== undefined && rule.expireAfterDays > lc.expireAfterDays) {
      out.push(
        new ClaimError(
          `${field}.expireAfterDays`,
          `rule '${rule.name}' keeps ${rule.prefix} for ${rule.expireAfterDays} days, but spec.lifecycle.expireAfterDays deletes every object after ${lc.expireAfterDays}`,
          `lower ${field}.expireAfterDays to at most ${lc.expireAfterDays}, or move the whole-bucket expiration into per-prefix rules`,
        ),
      );
    }
  });
  return out;
}
