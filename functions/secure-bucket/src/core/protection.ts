// Versioning only where something needs it: it multiplies storage cost, so it is off unless
// object lock or replication requires it, or the claim asks.
import type { RenderContext } from './context.js';
import { managed } from './resources.js';
import type { ManagedResource } from './types.js';

export function versioningRequired(ctx: RenderContext): boolean {
  const { spec } = ctx;
  return spec.objectLock !== undefined || spec.replication !== undefined || spec.versioning === 'Enabled';
}

export function protectionResources(ctx: RenderContext): Record<string, ManagedResource> {
  if (!versioningRequired(ctx)) return {};
  return {
    'bucket-versioning': managed(ctx.identity, 's3.aws.upbound.io/v1beta2', 'BucketVersioning', 'versioning', {
      region: ctx.spec.region,
      bucket: ctx.bucketName,
      versioningConfiguration: { status: 'Enabled' },
    }),
  };
}
