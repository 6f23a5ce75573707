// Which buckets a claim owns: its source and, when it asks for replication, the replica. Described
// once per render by the composer (no memo): every bucket concern gets the same OwnedBucket.
import type { RenderContext } from './context.js';
import { governanceBypassPrincipals } from './object-lock.js';
import { REPLICA_PARTS, SOURCE_PARTS, type OwnedBucket } from './owned-bucket.js';
import { replicationTarget, type ReplicationTarget } from './replication.js';
import { versioningRequired } from './spec-rules.js';

export interface OwnedBuckets {
  source: OwnedBucket;
  replica?: OwnedBucket;
  /** Where the replica lives and how S3 writes it, when the claim replicates. */
  replication?: ReplicationTarget;
}

export function ownedBuckets(ctx: RenderContext): OwnedBuckets {
  const target = replicationTarget(ctx);
  const out: OwnedBuckets = { source: sourceBucket(ctx, target) };
  if (target !== undefined) {
    out.replica = replicaBucket(ctx, target);
    out.replication = target;
  }
  return out;
}

/** The claim's own bucket: its consumers use it, through their access points where they asked. */
function sourceBucket(ctx: RenderContext, target: ReplicationTarget | undefined): OwnedBucket {
  const replicationRole = target?.roleArn;
  const readers = ctx.consumers.map((c) => c.roleArn);
  const writers = ctx.consumers.filter((c) => c.access !== 'Read').map((c) => c.roleArn);
  const breakGlass = ctx.env.access.breakGlassPrincipalArns;
  const viaS3Only = replicationRole ? [replicationRole] : [];
  const b: OwnedBucket = {
    parts: SOURCE_PARTS,
    name: ctx.bucketName,
    arn: ctx.bucketArn,
    region: ctx.spec.region,
    // Break-glass may read in an emergency, never write new data keys; S3 decrypts for the replication role.
    users: { decrypt: [...readers, ...breakGlass, ...viaS3Only], generateDataKey: writers, encrypt: [] },
    admitted: readers,
    viaS3Only,
    accessPoints: ctx.consumers.flatMap((c) => (c.accessPointArn ? [c.accessPointArn] : [])),
    governanceBypass: governanceBypassPrincipals(ctx),
    versioned: versioningRequired(ctx),
  };
  if (ctx.keyArn !== undefined) b.keyArn = ctx.keyArn;
  return b;
}

/** The copy in the destination region: only S3 (as the replication role) writes it; break-glass may read. */
function replicaBucket(ctx: RenderContext, target: ReplicationTarget): OwnedBucket {
  const breakGlass = ctx.env.access.breakGlassPrincipalArns;
  const b: OwnedBucket = {
    parts: REPLICA_PARTS,
    name: target.bucketName,
    arn: target.bucketArn,
    region: target.region,
    users: { decrypt: breakGlass, generateDataKey: [], encrypt: [target.roleArn] },
    admitted: [],
    viaS3Only: [target.roleArn],
    accessPoints: [],
    governanceBypass: ctx.spec.objectLock?.mode === 'Governance' ? breakGlass : [],
    versioned: true,
    expectedOwner: ctx.env.accountId,
  };
  if (target.keyArn !== undefined) b.keyArn = target.keyArn;
  return b;
}
