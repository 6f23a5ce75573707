// Data protection: versioning only where something needs it (it multiplies storage cost), and
// object lock (WORM) when the claim asks. Versioning is on for object lock and replication, which
// both require it, or when the claim asks; the lifecycle then expires noncurrent versions.
import type { RenderContext } from './context.js';
import { objectLockResourcesFor } from './object-lock.js';
import { sourceBucket, type OwnedBucket } from './owned-bucket.js';
import { bucketConfiguration, managed } from './resources.js';
import type { BucketSpec, ManagedResource } from './types.js';


export function versioningRequired(ctx: { spec: Pick<BucketSpec, 'objectLock' | 'replication' | 'versioning'> }): boolean {
  const { spec } = ctx;
  return spec.objectLock !== undefined || spec.replication !== undefined || spec.versioning === 'Enabled';
}

/** Versioning where something needs it, and the claim's lock, for any owned bucket. */
export function protectionResourcesFor(ctx: RenderContext, b: OwnedBucket): Record<string, ManagedResource> {
  const out: Record<string, ManagedResource> = {};
  if (b.versioned) {
    out[b.parts.versioning.name] = managed(ctx.identity, 's3.aws.upbound.io/v1beta2', 'BucketVersioning', b.parts.versioning.component, {
      region: b.region,
      bucket: b.name,
      versioningConfiguration: { status: 'Enabled' },
    }, bucketConfiguration(b.name));
  }
  return { ...out, ...objectLockResourcesFor(ctx, b) };
}

export function protectionResources(ctx: RenderContext): Record<string, ManagedResource> {
  return protectionResourcesFor(ctx, sourceBucket(ctx));
}
