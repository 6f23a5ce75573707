// Replication, sparingly: only when the claim names a destination region. The replica bucket gets
// the same hardening as the source and its own KMS key in its region; S3 replicates through a role
// that can do exactly the replication actions and nothing else. Replica modifications and delete
// markers are not replicated: a delete on the source never reaches the copy.
import { objectLockEnabledAtCreation } from './bucket.js';
import { transportStatements } from './bucket-policy.js';
import type { RenderContext } from './context.js';
import { KEY_ADMIN_ACTIONS, keyToKeep, s3ViaService } from './encryption.js';
import { boundedName, bucketArn, kmsAliasName, replicationRoleName, roleArn } from './naming.js';
import { defaultRetention } from './object-lock.js';
import { policy, renderPolicy, type PolicyDocument, type Statement } from './policy.js';
import { bucketConfiguration, managed, observedString, sameXrSelector } from './resources.js';
import type { ManagedResource } from './types.js';

export const REPLICA_KMS_KEY = 'replica-kms-key';
export const REPLICATION_ROLE = 'replication-role';
export const REPLICATION = 'bucket-replication';

const S3 = 's3.aws.upbound.io';

/** Exactly what S3 needs to replicate (AWS's replication role example), per resource. */
export const REPLICATION_ACTIONS = {
  sourceBucket: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
  sourceObjects: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
  /** Locked objects carry their retention and legal hold to the replica: S3 must read them. */
  sourceObjectLock: ['s3:GetObjectRetention', 's3:GetObjectLegalHold'],
  destinationObjects: ['s3:ReplicateObject', 's3:ReplicateTags'],
};

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
  const roleName = replicationRoleName(ctx.identity, ctx.env);
  const target: ReplicationTarget = { region, bucketName: name, bucketArn: bucketArn(ctx.env, name), roleName, roleArn: roleArn(ctx.env, roleName) };
  const keyArn = observedString(ctx.observed, REPLICA_KMS_KEY, 'arn');
  if (keyArn !== undefined) target.keyArn = keyArn;
  return target;
}

/**
 * The replication role, when the claim replicates: the source key lets it decrypt via S3, and the
 * bucket policy lets it past the endpoint deny (S3 reads the source from outside any VPC).
 */
export function replicationPrincipals(ctx: RenderContext): string[] {
  const target = replicationTarget(ctx);
  return target ? [target.roleArn] : [];
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
  const statements: Statement[] = [
    { Sid: 'SourceBucketConfiguration', Effect: 'Allow', Action: REPLICATION_ACTIONS.sourceBucket, Resource: ctx.bucketArn },
    { Sid: 'SourceObjectVersions', Effect: 'Allow', Action: sourceObjectActions, Resource: `${ctx.bucketArn}/*` },
    { Sid: 'ReplicateToDestination', Effect: 'Allow', Action: REPLICATION_ACTIONS.destinationObjects, Resource: `${target.bucketArn}/*` },
  ];
  if (ctx.keyArn !== undefined) statements.push(kmsViaS3('DecryptSourceViaS3', 'kms:Decrypt', ctx.keyArn, ctx.spec.region, ctx.bucketArn));
  if (target.keyArn !== undefined) statements.push(kmsViaS3('EncryptReplicasViaS3', 'kms:Encrypt', target.keyArn, target.region, target.bucketArn));
  return policy(statements);
}

/** The replica's key: administered like the source's; S3 encrypts with it for the replication role; break-glass may read. */
export function replicaKeyPolicy(ctx: RenderContext, target: ReplicationTarget): string {
  const { env } = ctx;
  const root = `arn:${env.partition}:iam::${env.accountId}:root`;
  // Matched by aws:PrincipalArn, not named as Principal: KMS refuses roles that do not exist yet.
  const viaS3 = (sid: string, action: string, principals: string[]): Statement => ({
    Sid: sid,
    Effect: 'Allow',
    Principal: { AWS: root },
    Action: action,
    Resource: '*',
    Condition: { StringEquals: { 'kms:ViaService': s3ViaService(target.region), 'kms:CallerAccount': env.accountId }, ArnEquals: { 'aws:PrincipalArn': principals } },
  });
  const statements: Statement[] = [
    { Sid: 'AccountAdministersKey', Effect: 'Allow', Principal: { AWS: root }, Action: KEY_ADMIN_ACTIONS, Resource: '*' },
    viaS3('ReplicationRoleEncryptsViaS3', 'kms:Encrypt', [target.roleArn]),
  ];
  if (env.kms.keyAdminArns.length > 0) {
    statements.push({ Sid: 'KeyAdministrators', Effect: 'Allow', Principal: { AWS: root }, Action: KEY_ADMIN_ACTIONS, Resource: '*', Condition: { ArnEquals: { 'aws:PrincipalArn': env.kms.keyAdminArns } } });
  }
  if (env.access.breakGlassPrincipalArns.length > 0) statements.push(viaS3('BreakGlassDecryptsViaS3', 'kms:Decrypt', env.access.breakGlassPrincipalArns));
  return renderPolicy(policy(statements));
}

/** The replica and its hardening, the same controls as the source bucket, in the destination region. */
function replicaBucketResources(ctx: RenderContext, target: ReplicationTarget): Record<string, ManagedResource> {
  const { identity } = ctx;
  const ref = { bucket: target.bucketName, region: target.region };
  // Orphan, like the source bucket and key: dropping replication later must leave the copy (and its
  // hardening) in place, never delete data or open the orphaned bucket.
  const keep = bucketConfiguration(target.bucketName);
  const out: Record<string, ManagedResource> = {
    'replica-bucket': managed(
      identity,
      `${S3}/v1beta2`,
      'Bucket',
      'replica-bucket',
      // A locked source replicates only into a locked destination (DstBucketObjectLockConfigMissing).
      { region: target.region, forceDestroy: false, objectLockEnabled: objectLockEnabledAtCreation(ctx, 'replica-bucket', target.bucketName), tags: ctx.tags },
      { externalName: target.bucketName, keepOnDelete: true },
    ),
    'replica-public-access-block': managed(
      identity,
      `${S3}/v1beta1`,
      'BucketPublicAccessBlock',
      'replica-public-access-block',
      { ...ref, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      keep,
    ),
    'replica-ownership-controls': managed(identity, `${S3}/v1beta2`, 'BucketOwnershipControls', 'replica-ownership-controls', { ...ref, rule: { objectOwnership: 'BucketOwnerEnforced' } }, keep),
    [REPLICA_KMS_KEY]: managed(
      identity,
      'kms.aws.upbound.io/v1beta1',
      'Key',
      REPLICA_KMS_KEY,
      {
        region: target.region,
        description: `SSE-KMS key of s3://${target.bucketName}, replica of s3://${ctx.bucketName}`,
        enableKeyRotation: true,
        deletionWindowInDays: ctx.env.kms.deletionWindowInDays,
        keyUsage: 'ENCRYPT_DECRYPT',
        policy: replicaKeyPolicy(ctx, target),
        tags: ctx.tags,
      },
      keyToKeep(ctx, REPLICA_KMS_KEY, 'replica-encryption', target.bucketName, target.region),
    ),
    'replica-kms-alias': managed(identity, 'kms.aws.upbound.io/v1beta1', 'Alias', 'replica-kms-alias', { region: target.region, targetKeyIdSelector: sameXrSelector(REPLICA_KMS_KEY) }, {
      externalName: kmsAliasName(target.bucketName),
    }),
    'replica-encryption': managed(
      identity,
      `${S3}/v1beta2`,
      'BucketServerSideEncryptionConfiguration',
      'replica-encryption',
      {
        ...ref,
        rule: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyIdSelector: sameXrSelector(REPLICA_KMS_KEY) },
            bucketKeyEnabled: true,
            blockedEncryptionTypes: ['SSE-C'],
          },
        ],
      },
      keep,
    ),
    'replica-versioning': managed(identity, `${S3}/v1beta2`, 'BucketVersioning', 'replica-versioning', { ...ref, versioningConfiguration: { status: 'Enabled' } }, keep),
    'replica-bucket-policy': managed(
      identity,
      `${S3}/v1beta1`,
      'BucketPolicy',
      'replica-bucket-policy',
      { ...ref, policy: renderPolicy(policy(transportStatements(target.bucketArn, ctx.spec.tls.minimumVersion))) },
      keep,
    ),
  };
  if (ctx.spec.objectLock) {
    out['replica-object-lock'] = managed(
      identity,
      `${S3}/v1beta2`,
      'BucketObjectLockConfiguration',
      'replica-object-lock',
      { ...ref, objectLockEnabled: 'Enabled', rule: { defaultRetention: defaultRetention(ctx.spec.objectLock) } },
      keep,
    );
  }
  return out;
}

export function replicationResources(ctx: RenderContext): Record<string, ManagedResource> {
  const target = replicationTarget(ctx);
  if (!target) return {};
  const out = replicaBucketResources(ctx, target);
  out[REPLICATION_ROLE] = managed(
    ctx.identity,
    'iam.aws.upbound.io/v1beta1',
    'Role',
    REPLICATION_ROLE,
    {
      assumeRolePolicy: renderPolicy(replicationTrustPolicy(ctx)),
      description: `S3 replication of s3://${ctx.bucketName} to s3://${target.bucketName}`,
      path: ctx.env.identity.rolePath,
      maxSessionDuration: 3600,
      inlinePolicy: [{ name: 'replication', policy: renderPolicy(replicationRolePolicy(ctx, target)) }],
      tags: ctx.tags,
    },
    { externalName: target.roleName },
  );
  // Only once both keys exist: S3 never retries an object whose replication failed, so the role
  // must be able to decrypt and encrypt before the first object is replicated.
  if (ctx.keyArn !== undefined && target.keyArn !== undefined) {
    out[REPLICATION] = managed(ctx.identity, `${S3}/v1beta2`, 'BucketReplicationConfiguration', 'replication', {
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
          destination: { bucket: target.bucketArn, encryptionConfiguration: { replicaKmsKeyId: target.keyArn } },
        },
      ],
    });
  }
  return out;
}
