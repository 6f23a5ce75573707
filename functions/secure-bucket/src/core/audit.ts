// The audit trail: server access logs and a weekly S3 Inventory, each to the platform's own
// bucket (separate, unlocked, owned by the platform) and only when the platform has one.
import type { RenderContext } from './context.js';
import { bucketPart, type OwnedBucket } from './owned-bucket.js';
import { tenantSegment } from './naming.js';
import { managed } from './resources.js';
import { ClaimError, type ManagedResource } from './types.js';

export const INVENTORY = 'bucket-inventory';
export const INVENTORY_NAME = 'weekly-audit';

/** What an auditor asks of every object: is it encrypted, replicated, locked, and how. */
export const INVENTORY_FIELDS = [
  'BucketKeyStatus',
  'EncryptionStatus',
  'ETag',
  'IsMultipartUploaded',
  'LastModifiedDate',
  'ObjectLockLegalHoldStatus',
  'ObjectLockMode',
  'ObjectLockRetainUntilDate',
  'ReplicationStatus',
  'Size',
  'StorageClass',
];

/** Logs land under `<bucket>/` in the platform's log bucket: one prefix per bucket, easy to grant and expire. */
export function accessLogPrefix(bucketName: string): string {
  return `${bucketName}/`;
}

/** The platform's log bucket in `region`: S3 delivers server access logs only within a region. */
export function logBucketIn(ctx: RenderContext, region: string): string | undefined {
  return region === ctx.env.region ? ctx.env.audit.logBucket : ctx.env.audit.logBucketsByRegion[region];
}

/** Server access logs of any owned bucket, where the platform has a log bucket in its region. */
export function accessLoggingFor(ctx: RenderContext, b: OwnedBucket): Record<string, ManagedResource> {
  const target = logBucketIn(ctx, b.region);
  if (target === undefined) return {};
  return bucketPart(ctx, b, {
    part: 'logging',
    kind: 'BucketLogging',
    fields: {
      targetBucket: target,
      targetPrefix: accessLogPrefix(b.name),
      // Date-partitioned keys: Athena and lifecycle rules can then work per day.
      targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: 'EventTime' } },
    },
  });
}

/** The source's inventory (its access logs are a part of every owned bucket: accessLoggingFor). */
export function auditResources(ctx: RenderContext, source: OwnedBucket): Record<string, ManagedResource> {
  const { env, spec, bucketName, identity } = ctx;
  for (const target of [env.audit.logBucket, env.audit.inventoryBucket, ...Object.values(env.audit.logBucketsByRegion)]) {
    if (target === bucketName) {
      // A bucket logging into itself logs its own log writes forever (and a locked one cannot take logs at all).
      throw new ClaimError('spec.naming.name', `'${bucketName}' is the platform's audit bucket`, 'choose another name');
    }
  }
  const out: Record<string, ManagedResource> = {};
  if (env.audit.inventoryBucket !== undefined) {
    out[INVENTORY] = managed(identity, {
      kind: 'BucketInventory',
      component: 'inventory',
      forProvider: {
        region: spec.region,
        bucket: bucketName,
        name: INVENTORY_NAME,
        enabled: true,
        includedObjectVersions: source.versioned ? 'All' : 'Current',
        schedule: { frequency: 'Weekly' },
        optionalFields: INVENTORY_FIELDS,
        destination: {
          bucket: {
            bucketArn: `arn:${env.partition}:s3:::${env.audit.inventoryBucket}`,
            accountId: env.accountId,
            format: 'Parquet',
            // Per registered segment, not namespace: 'team' would prefix 'team-sales' in the shared
            // bucket, and a grant on one team's reports would reach the other's.
            prefix: tenantSegment(identity, env),
            // SSE-S3: the reports hold metadata only, and S3 (the writer) needs no grant on a key.
            encryption: { sseS3: {} },
          },
        },
      },
      externalName: `${bucketName}:${INVENTORY_NAME}`,
    });
  }
  return out;
}
