// The bucket itself and the two controls that are never optional: no public access, no ACLs.
import { heldInAws } from './adoption.js';
import type { RenderContext } from './context.js';
import { bucketConfiguration, managed } from './resources.js';
import type { ManagedResource } from './types.js';

const S3 = 's3.aws.upbound.io';

/**
 * `Bucket.objectLockEnabled` is replace-only (upjet refuses the update and the Bucket stays
 * Synced=False): a bucket AWS already holds keeps what it has, and lock added later goes through
 * the lock configuration (object-lock.ts). Only a bucket about to be created takes the claim's.
 */
export function objectLockEnabledAtCreation(ctx: RenderContext, component: string, bucket: string): boolean {
  const held = heldInAws(ctx, component, bucket);
  return held !== undefined ? held['objectLockEnabled'] === true : ctx.spec.objectLock !== undefined;
}

export function bucketResources(ctx: RenderContext): Record<string, ManagedResource> {
  const { identity, spec, bucketName } = ctx;
  const region = spec.region;
  const bucketRef = { bucket: bucketName, region };
  return {
    // Orphan on delete and never forceDestroy: deleting a claim must never delete data.
    bucket: managed(
      identity,
      `${S3}/v1beta2`,
      'Bucket',
      'bucket',
      { region, forceDestroy: false, objectLockEnabled: objectLockEnabledAtCreation(ctx, 'bucket', bucketName), tags: ctx.tags },
      { externalName: bucketName, keepOnDelete: true },
    ),
    'bucket-public-access-block': managed(identity, `${S3}/v1beta1`, 'BucketPublicAccessBlock', 'public-access-block', {
      ...bucketRef,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }, bucketConfiguration(bucketName)),
    'bucket-ownership-controls': managed(identity, `${S3}/v1beta2`, 'BucketOwnershipControls', 'ownership-controls', {
      ...bucketRef,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    }, bucketConfiguration(bucketName)),
  };
}
