// The bucket itself and the two controls that are never optional: no public access, no ACLs.
import { managed, OUTLIVES_CLAIM } from './resources.js';
import type { RenderContext } from './context.js';
import type { ManagedResource } from './types.js';

const S3 = 's3.aws.upbound.io';

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
      { region, forceDestroy: false, objectLockEnabled: spec.objectLock !== undefined, tags: ctx.tags },
      { externalName: bucketName, keepOnDelete: true },
    ),
    'bucket-public-access-block': managed(identity, `${S3}/v1beta1`, 'BucketPublicAccessBlock', 'public-access-block', {
      ...bucketRef,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }, OUTLIVES_CLAIM),
    'bucket-ownership-controls': managed(identity, `${S3}/v1beta2`, 'BucketOwnershipControls', 'ownership-controls', {
      ...bucketRef,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    }, OUTLIVES_CLAIM),
  };
}
