// Data protection: versioning only where something needs it (it multiplies storage cost), and
// object lock (WORM) when the claim asks. Versioning is on for object lock and replication, which
// both require it, or when the claim asks; the lifecycle then expires noncurrent versions.
import type { RenderContext } from './context.js';
import { objectLockResources } from './object-lock.js';
import { bucketConfiguration, managed } from './resources.js';
import type { BucketSpec, ManagedResource } from './types.js';

export const VERSIONING = 'bucket-versioning';

export function versioningRequired(ctx: { spec: Pick<BucketSpec, 'objectLock' | 'replication' | 'versioning'> }): boolean {
  const { spec } = ctx;
  return spec.objectLock !== undefined || spec.replication !== undefined || spec.versioning === 'Enabled';
}

export function protectionResources(ctx: RenderContext): Record<string, ManagedResource> {
  const out: Record<string, ManagedResource> = {};
  if (versioningRequired(ctx)) {
    out[VERSIONING] = managed(ctx.identity, 's3.aws.upbound.io/v1beta2', 'BucketVersioning', 'versioning', {
      region: ctx.spec.region,
      bucket: ctx.bucketName,
      versioningConfiguration: { status: 'Enabled' },
    }, bucketConfiguration(ctx.bucketName));
  }
  return { ...out, ...objectLockResources(ctx) };
}
