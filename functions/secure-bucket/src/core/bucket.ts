// The bucket itself and the two controls that are never optional: no public access, no ACLs.
import { heldInAws } from './adoption.js';
import type { RenderContext } from './context.js';
import type { OwnedBucket } from './owned-bucket.js';
import { bucketConfiguration, managed } from './resources.js';
import type { ManagedResource } from './types.js';

/**
 * `Bucket.objectLockEnabled` is replace-only (upjet refuses the update and the Bucket stays
 * Synced=False): a bucket AWS already holds keeps what it has, and lock added later goes through
 * the lock configuration (object-lock.ts). Only a bucket about to be created takes the claim's.
 */
export function objectLockEnabledAtCreation(ctx: RenderContext, b: OwnedBucket): boolean {
  const held = heldInAws(ctx, b.parts.bucket.name, b.name);
  return held !== undefined ? held['objectLockEnabled'] === true : ctx.spec.objectLock !== undefined;
}

/** Any bucket the claim owns: Orphan on delete and never forceDestroy, public access and ACLs off. */
export function bucketResourcesFor(ctx: RenderContext, b: OwnedBucket): Record<string, ManagedResource> {
  const { identity } = ctx;
  const { parts } = b;
  const ref = { bucket: b.name, region: b.region };
  return {
    // A locked source replicates only into a locked destination (DstBucketObjectLockConfigMissing).
    [parts.bucket.name]: managed(identity, {
      kind: 'Bucket',
      component: parts.bucket.component,
      forProvider: { region: b.region, forceDestroy: false, objectLockEnabled: objectLockEnabledAtCreation(ctx, b), tags: ctx.tags },
      externalName: b.name,
      keepOnDelete: true,
    }),
    [parts.publicAccessBlock.name]: managed(identity, {
      kind: 'BucketPublicAccessBlock',
      component: parts.publicAccessBlock.component,
      forProvider: {
        ...ref,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      ...bucketConfiguration(b.name),
    }),
    [parts.ownershipControls.name]: managed(identity, {
      kind: 'BucketOwnershipControls',
      component: parts.ownershipControls.component,
      forProvider: {
        ...ref,
        rule: { objectOwnership: 'BucketOwnerEnforced' },
      },
      ...bucketConfiguration(b.name),
    }),
  };
}
