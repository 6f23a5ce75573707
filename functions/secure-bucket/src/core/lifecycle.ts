// Lifecycle: the cost controls. Always abort incomplete multipart uploads (their parts are billed
// but invisible); expire noncurrent versions whenever versioning is on, so it does not grow cost
// without bound; transitions and expiration as the claim asks (checked by spec-rules.ts).
import type { RenderContext } from './context.js';
import { bucketPart, type OwnedBucket } from './owned-bucket.js';
import type { BucketSpec, ManagedResource, Transition } from './types.js';

/** Noncurrent versions are kept this long when the claim does not say (a quarter: time to notice a bad overwrite). */
export const NONCURRENT_VERSION_DEFAULT_DAYS = 90;

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
  return bucketPart(ctx, b, { part: 'lifecycle', kind: 'BucketLifecycleConfiguration', fields: { rule: lifecycleRules(ctx, b) } });
}
