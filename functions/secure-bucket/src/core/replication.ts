// Replication, sparingly: only when the claim names a destination region. The replica bucket gets
// the same hardening as the source and its own KMS key in its region; S3 replicates through a role
// that can do exactly the replication actions and nothing else. Replica modifications and delete
// markers are not replicated: a delete on the source never reaches the copy.
import { externalNameOf } from './adoption.js';
import type { RenderContext } from './context.js';
import { s3ViaService } from './encryption.js';
import { boundedName, bucketArn, replicationRoleName, roleArn } from './naming.js';
import { REPLICA_PARTS, reportedKeyArn } from './owned-bucket.js';
import { policy, renderPolicy, type PolicyDocument, type Statement } from './policy.js';
import { managed } from './resources.js';
import { ClaimError, type ManagedResource } from './types.js';

export const REPLICATION_ROLE = 'replication-role';
export const REPLICATION = 'bucket-replication';

/** Exactly what S3 needs to replicate (AWS's replication role example), per resource. */
export const REPLICATION_ACTIONS = {
  sourceBucket: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
  sourceObjects: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
  /** Locked objects carry their retention and legal hold to the replica: S3 must read them. */
  sourceObjectLock: ['s3:GetObjectRetention', 's3:GetObjectLegalHold'],
  destinationObjects: ['s3:ReplicateObject', 's3:ReplicateTags'],
  /** The rule names the destination account and makes it the replicas' owner (owner override). */
  destinationOwnerOverride: ['s3:ObjectOwnerOverrideToBucketOwner'],
};

/** Pins an S3 statement to buckets of the platform's account: a same-named bucket elsewhere gets nothing. */
export function inAccount(accountId: string): Statement['Condition'] {
  return { StringEquals: { 'aws:ResourceAccount': accountId } };
}

export interface ReplicationTarget {
  region: string;
  bucketName: string;
  bucketArn: string;
  roleName: string;
  roleArn: string;
  /** Known once the provider created the replica's key. */
  keyArn?: string;
}

/** The replica's name: the source name (cut to fit), the region, and a hash of both. */
export function replicaBucketName(sourceBucket: string, region: string): string {
  return boundedName(`${sourceBucket}-${region}`, 63, sourceBucket, region);
}

export function replicationTarget(ctx: RenderContext): ReplicationTarget | undefined {
  const region = ctx.spec.replication?.destinationRegion;
  if (region === undefined) return undefined;
  const name = replicaBucketName(ctx.bucketName, region);
  const current = externalNameOf(ctx.observed[REPLICA_PARTS.bucket.name]?.resource);
  if (current !== undefined && current !== name) {
    // The composed replica, its key and configurations are regional: re-pointing them would leave
    // the copy behind unmanaged and start a second, empty one.
    throw new ClaimError(
      'spec.replication.destinationRegion',
      `would move the replica from s3://${current} to a new bucket in ${region}`,
      `keep the replica's region; to replicate elsewhere, ask the platform team (the existing replica keeps its data)`,
    );
  }
  const roleName = replicationRoleName(ctx.identity, ctx.env);
  const target: ReplicationTarget = { region, bucketName: name, bucketArn: bucketArn(ctx.env, name), roleName, roleArn: roleArn(ctx.env, roleName) };
  const keyArn = reportedKeyArn(ctx, REPLICA_PARTS);
  if (keyArn !== undefined) target.keyArn = keyArn;
  return target;
}

/** Trusted by S3 only, and only on behalf of this source bucket of this account (no confused deputy). */
export function replicationTrustPolicy(ctx: RenderContext): PolicyDocument {
  return policy([
    {
      Sid: 'S3ReplicatesThisBucket',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'aws:SourceAccount': ctx.env.accountId }, ArnEquals: { 'aws:SourceArn': ctx.bucketArn } },
    },
  ]);
}

function kmsViaS3(sid: string, action: string, keyArn: string, region: string, bucket: string): Statement {
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: action,
    Resource: keyArn,
    Condition: {
      StringEquals: { 'kms:ViaService': s3ViaService(region) },
      // With a bucket key the context is the bucket ARN, without one the object ARN: both, nothing else.
      StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucket, `${bucket}/*`] },
    },
  };
}

export function replicationRolePolicy(ctx: RenderContext, target: ReplicationTarget): PolicyDocument {
  const sourceObjectActions = [...REPLICATION_ACTIONS.sourceObjects, ...(ctx.spec.objectLock ? REPLICATION_ACTIONS.sourceObjectLock : [])];
  // Bucket names are global and the replica's is predictable: every S3 grant holds only in this account.
  const pinned = inAccount(ctx.env.accountId);
  const statements: Statement[] = [
    { Sid: 'SourceBucketConfiguration', Effect: 'Allow', Action: REPLICATION_ACTIONS.sourceBucket, Resource: ctx.bucketArn, Condition: pinned },
    { Sid: 'SourceObjectVersions', Effect: 'Allow', Action: sourceObjectActions, Resource: `${ctx.bucketArn}/*`, Condition: pinned },
    {
      Sid: 'ReplicateToDestination',
      Effect: 'Allow',
      Action: [...REPLICATION_ACTIONS.destinationObjects, ...REPLICATION_ACTIONS.destinationOwnerOverride],
      Resource: `${target.bucketArn}/*`,
      Condition: pinned,
    },
  ];
  if (ctx.keyArn !== undefined) statements.push(kmsViaS3('DecryptSourceViaS3', 'kms:Decrypt', ctx.keyArn, ctx.spec.region, ctx.bucketArn));
  if (target.keyArn !== undefined) statements.push(kmsViaS3('EncryptReplicasViaS3', 'kms:Encrypt', target.keyArn, target.region, target.bucketArn));
  return policy(statements);
}

/** The replication role and configuration; the replica's own parts are every bucket concern's (compose.ts). */
export function replicationResources(ctx: RenderContext, target: ReplicationTarget | undefined): Record<string, ManagedResource> {
  if (!target) return {};
  const out: Record<string, ManagedResource> = {};
  out[REPLICATION_ROLE] = managed(ctx.identity, {
    kind: 'Role',
    component: REPLICATION_ROLE,
    forProvider: {
      assumeRolePolicy: renderPolicy(replicationTrustPolicy(ctx)),
      description: `S3 replication of s3://${ctx.bucketName} to s3://${target.bucketName}`,
      path: ctx.env.identity.rolePath,
      // Every role the platform creates carries the platform's boundary (DESIGN invariant 12).
      permissionsBoundary: ctx.env.identity.permissionsBoundaryArn,
      maxSessionDuration: 3600,
      inlinePolicy: [{ name: 'replication', policy: renderPolicy(replicationRolePolicy(ctx, target)) }],
      tags: ctx.tags,
    },
    externalName: target.roleName,
  });
  // Only once both keys exist: S3 never retries an object whose replication failed, so the role
  // must be able to decrypt and encrypt before the first object is replicated.
  if (ctx.keyArn !== undefined && target.keyArn !== undefined) {
    out[REPLICATION] = managed(ctx.identity, {
      kind: 'BucketReplicationConfiguration',
      component: 'replication',
      forProvider: {
        region: ctx.spec.region,
        bucket: ctx.bucketName,
        role: target.roleArn,
        rule: [
          {
            id: 'replicate-all',
            status: 'Enabled',
            priority: 0,
            filter: {},
            deleteMarkerReplication: { status: 'Disabled' },
            sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' }, replicaModifications: { status: 'Disabled' } },
            // The destination account and owner override: S3 checks the replica's owner before writing.
            destination: {
              account: ctx.env.accountId,
              accessControlTranslation: { owner: 'Destination' },
              bucket: target.bucketArn,
              encryptionConfiguration: { replicaKmsKeyId: target.keyArn },
            },
          },
        ],
      },
      externalName: ctx.bucketName,
    });
  }
  return out;
}
