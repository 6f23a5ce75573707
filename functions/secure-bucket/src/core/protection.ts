// Data protection: versioning only where something needs it (it multiplies storage cost), and
// object lock (WORM) when the claim asks. Versioning is on for object lock and replication, which
// both require it, or when the claim asks; the lifecycle then expires noncurrent versions.
import type { RenderContext } from './context.js';
import { objectLockResourcesFor } from './object-lock.js';
import { bucketPart, type OwnedBucket } from './owned-bucket.js';
import type { ManagedResource } from './types.js';
import { versioningRequired } from './spec-rules.js';
export { versioningRequired };

/** Versioning where something needs it, and the claim's lock, for any owned bucket. */
export function protectionResourcesFor(ctx: RenderContext, b: OwnedBucket): Record<string, ManagedResource> {
  const out: Record<string, ManagedResource> = {};
  if (b.versioned) {
    Object.assign(out, bucketPart(ctx, b, { part: 'versioning', kind: 'BucketVersioning', fields: { versioningConfiguration: { status: 'Enabled' } } }));
  }
  return { ...out, ...objectLockResourcesFor(ctx, b) };
}
