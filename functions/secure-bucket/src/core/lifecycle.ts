// Lifecycle: the cost controls. Always abort incomplete multipart uploads (their parts are billed
// but invisible); expire noncurrent versions whenever versioning is on, so it does not grow cost
// without bound; transitions and expiration as the claim asks, checked against AWS's rules.
import type { RenderContext } from './context.js';
import { versioningRequired } from './protection.js';
import { bucketPart, sourceBucket, type OwnedBucket } from './owned-bucket.js';
import { ClaimError, type BucketSpec, type ManagedResource, type StorageClass, type Transition } from './types.js';

/** Noncurrent versions are kept this long when the claim does not say (a quarter: time to notice a bad overwrite). */
export const NONCURRENT_VERSION_DEFAULT_DAYS = 90;

export const RESERVED_RULE_IDS = ['default', 'abort-incomplete-multipart-uploads', 'noncurrent-versions'];

/** S3's transition waterfall: objects only move down it, never back up. */
const WATERFALL: StorageClass[] = ['STANDARD_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'];

/**
 * Days an object must stay in a class before it moves on or expires: S3's minimum storage
 * durations. AWS rejects less after STANDARD_IA and bills early deletion for the others.
 */
export const MINIMUM_STAY: Record<StorageClass, number> = { STANDARD_IA: 30, INTELLIGENT_TIERING: 0, GLACIER_IR: 90, GLACIER: 90, DEEP_ARCHIVE: 180 };

/** STANDARD_IA (and ONEZONE_IA) take only objects at least 30 days old. */
const MINIMUM_AGE: Partial<Record<StorageClass, number>> = { STANDARD_IA: 30 };

/** Checks one rule's transitions and expiration; `field` is the claim path of the rule. */
export function checkRule(rule: string, field: string, transitions: Transition[], expireAfterDays: number | undefined): void {
  let previous: Transition | undefined;
  transitions.forEach((t, i) => {
    const at = `${field}.transitions[${i}]`;
    const minimumAge = MINIMUM_AGE[t.storageClass] ?? 0;
    if (t.days < minimumAge) {
      throw new ClaimError(`${at}.days`, `rule '${rule}' moves objects to ${t.storageClass} after ${t.days} days; AWS needs at least ${minimumAge}`, `set ${at}.days to ${minimumAge} or more`);
    }
    if (previous) {
      if (WATERFALL.indexOf(t.storageClass) <= WATERFALL.indexOf(previous.storageClass)) {
        throw new ClaimError(
          `${at}.storageClass`,
          `rule '${rule}' moves objects from ${previous.storageClass} to ${t.storageClass}, which S3 cannot do (order: ${WATERFALL.join(' -> ')})`,
          `list the transitions of '${rule}' in that order, each to a colder class`,
        );
      }
      const earliest = previous.days + Math.max(MINIMUM_STAY[previous.storageClass], 1);
      if (t.days < earliest) {
        throw new ClaimError(
          `${at}.days`,
          `rule '${rule}' moves objects to ${t.storageClass} after ${t.days} days, but they reach ${previous.storageClass} only at day ${previous.days} and must stay ${MINIMUM_STAY[previous.storageClass]} days there`,
          `set ${at}.days to ${earliest} or more`,
        );
      }
    }
    previous = t;
  });
  // S3 accepts an expiration inside the last class's minimum stay and bills the rest of it
  // (compositions/README.md documents it): refused only when it is not after the last transition;
  // the billed shortfall is a warning (warnings.ts).
  if (expireAfterDays !== undefined && previous && expireAfterDays <= previous.days) {
    throw new ClaimError(
      `${field}.expireAfterDays`,
      `rule '${rule}' expires objects after ${expireAfterDays} days, not after their move to ${previous.storageClass} at day ${previous.days}`,
      `set ${field}.expireAfterDays to ${previous.days + 1} or more, or drop the last transition`,
    );
  }
}

/** Every lifecycle rule of a claim, with the combinations S3 would reject or silently ignore. */
export function validateLifecycle(spec: BucketSpec): void {
  const lc = spec.lifecycle;
  checkRule('default', 'spec.lifecycle', lc.transitions, lc.expireAfterDays);
  if (lc.noncurrentVersionExpireAfterDays !== undefined && !versioningRequired({ spec })) {
    throw new ClaimError(
      'spec.lifecycle.noncurrentVersionExpireAfterDays',
      'is set but the bucket is not versioned (no object lock, replication or versioning: Enabled)',
      'remove it, or set spec.versioning: Enabled',
    );
  }
  const names = new Set<string>();
  const prefixes = new Set<string>();
  lc.rules.forEach((rule, i) => {
    const field = `spec.lifecycle.rules[${i}]`;
    if (RESERVED_RULE_IDS.includes(rule.name)) {
      throw new ClaimError(`${field}.name`, `'${rule.name}' is reserved for the platform's own rules`, `choose another name (not ${RESERVED_RULE_IDS.join(', ')})`);
    }
    if (names.has(rule.name)) throw new ClaimError(`${field}.name`, `'${rule.name}' is used by another rule`, 'give every rule its own name');
    if (prefixes.has(rule.prefix)) throw new ClaimError(`${field}.prefix`, `'${rule.prefix}' has another rule already`, 'merge the two rules into one');
    names.add(rule.name);
    prefixes.add(rule.prefix);
    checkRule(rule.name, field, rule.transitions, rule.expireAfterDays);
    // The whole-bucket rule applies under every prefix too, and S3 lets the earliest expiration win.
    if (rule.expireAfterDays !== undefined && lc.expireAfterDays !== undefined && rule.expireAfterDays > lc.expireAfterDays) {
      throw new ClaimError(
        `${field}.expireAfterDays`,
        `rule '${rule.name}' keeps ${rule.prefix} for ${rule.expireAfterDays} days, but spec.lifecycle.expireAfterDays deletes every object after ${lc.expireAfterDays}`,
        `lower ${field}.expireAfterDays to at most ${lc.expireAfterDays}, or move the whole-bucket expiration into per-prefix rules`,
      );
    }
  });
}

const WHOLE_BUCKET = [{}];

function transitionsAndExpiry(transitions: Transition[], expireAfterDays: number | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (transitions.length > 0) out['transition'] = transitions.map((t) => ({ days: t.days, storageClass: t.storageClass }));
  if (expireAfterDays !== undefined) out['expiration'] = [{ days: expireAfterDays }];
  return out;
}

export function noncurrentVersionDays(spec: BucketSpec): number {
  return spec.lifecycle.noncurrentVersionExpireAfterDays ?? NONCURRENT_VERSION_DEFAULT_DAYS;
}

/** The rules of any owned bucket: the replica expires what the source expires, current and noncurrent. */
export function lifecycleRules(ctx: RenderContext, b: OwnedBucket): Array<Record<string, unknown>> {
  const lc = ctx.spec.lifecycle;
  const rules: Array<Record<string, unknown>> = [
    {
      id: 'abort-incomplete-multipart-uploads',
      status: 'Enabled',
      filter: WHOLE_BUCKET,
      abortIncompleteMultipartUpload: [{ daysAfterInitiation: lc.abortIncompleteMultipartUploadDays }],
    },
  ];
  if (lc.transitions.length > 0 || lc.expireAfterDays !== undefined) {
    rules.push({ id: 'default', status: 'Enabled', filter: WHOLE_BUCKET, ...transitionsAndExpiry(lc.transitions, lc.expireAfterDays) });
  }
  if (b.versioned) {
    rules.push({
      id: 'noncurrent-versions',
      status: 'Enabled',
      filter: WHOLE_BUCKET,
      noncurrentVersionExpiration: [{ noncurrentDays: noncurrentVersionDays(ctx.spec) }],
      // Delete markers with no versions left behind them only slow down listings.
      expiration: [{ expiredObjectDeleteMarker: true }],
    });
  }
  for (const rule of lc.rules) {
    rules.push({ id: rule.name, status: 'Enabled', filter: [{ prefix: rule.prefix }], ...transitionsAndExpiry(rule.transitions, rule.expireAfterDays) });
  }
  return rules;
}

export function lifecycleResourcesFor(ctx: RenderContext, b: OwnedBucket): Record<string, ManagedResource> {
  return bucketPart(ctx, b, 'lifecycle', 'v1beta1', 'BucketLifecycleConfiguration', { rule: lifecycleRules(ctx, b) }, false);
}

export function lifecycleResources(ctx: RenderContext): Record<string, ManagedResource> {
  return lifecycleResourcesFor(ctx, sourceBucket(ctx));
}
