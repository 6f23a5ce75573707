// The bucket policy: explicit denies that hold for everybody (TLS, encryption, network path), and
// the delegation to this account's access points. Consumers get their allows from their roles.
import type { RenderContext } from './context.js';
import { objectLockBucketPolicyStatements } from './object-lock.js';
import { policy, renderPolicy, type Statement } from './policy.js';
import { bucketPart, type OwnedBucket } from './owned-bucket.js';
import type { ManagedResource, TlsVersion } from './types.js';

/** TLS only, at the claim's minimum version: the source bucket and its replica share these. */
export function transportStatements(bucketArn: string, minimumVersion: TlsVersion): Statement[] {
  const everything = [bucketArn, `${bucketArn}/*`];
  return [
    {
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: everything,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
    {
      Sid: 'DenyOutdatedTls',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: everything,
      Condition: { NumericLessThan: { 's3:TlsVersion': minimumVersion } },
    },
  ];
}

/**
 * S3 actions on the bucket ARN that read what is in it and the provider never needs. Not
 * s3:ListBucket: HeadBucket needs it, and the provider checks the bucket exists with HeadBucket on
 * every read (a 403 there leaves the Bucket unsynced and a re-created claim unable to observe it);
 * the provider gets it through the VPC endpoint only (DenyProviderListingOutsideVpcEndpoint).
 */
export const LISTING_ACTIONS = ['s3:ListBucketMultipartUploads', 's3:ListBucketVersions'];

/** Uploads: only with this bucket's key. SSE-C, SSE-S3, a foreign key and aws:kms without a key id are denied. */
function encryptionStatements(b: OwnedBucket): Statement[] {
  const objects = `${b.arn}/*`;
  const statements: Statement[] = [
    {
      Sid: 'DenyCustomerProvidedKeys',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: objects,
      Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } },
    },
    {
      Sid: 'DenyEncryptionOtherThanKms',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: objects,
      // Only when the header is sent: an upload without it gets the bucket's default (our key), and
      // UploadPart never carries it. `...IfExists` would deny both and break every multipart upload.
      Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' }, Null: { 's3:x-amz-server-side-encryption': 'false' } },
    },
    {
      Sid: 'DenyKmsWithoutKeyId',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: objects,
      // aws:kms without a key id is encrypted with the account's aws/s3 key, outside this key's policy.
      Condition: { StringEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' }, Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'true' } },
    },
  ];
  if (b.keyArn !== undefined) {
    statements.push({
      Sid: 'DenyForeignKmsKeys',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: objects,
      Condition: {
        StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': b.keyArn },
        Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
      },
    });
  }
  return statements;
}

/** The policy statements of any bucket the claim owns (the replica admits the replication role where the source admits consumers). */
export function bucketPolicyStatementsFor(ctx: RenderContext, b: OwnedBucket): Statement[] {
  const { env } = ctx;
  const everything = [b.arn, `${b.arn}/*`];
  const provider = env.access.providerRoleArn;
  const breakGlass = env.access.breakGlassPrincipalArns;
  // A dedicated endpoint's id is known only after creation: until then, hold to the VPC.
  const network: Record<string, string> = ctx.endpointId !== undefined ? { 'aws:SourceVpce': ctx.endpointId } : { 'aws:SourceVpc': env.network.vpcId };
  const statements: Statement[] = [...transportStatements(b.arn, ctx.spec.tls.minimumVersion), ...encryptionStatements(b)];
  // Never lock out the provider that manages this policy, nor the break-glass principals; S3 itself
  // acts for the replication role from outside any endpoint (a role only S3 may assume for this bucket).
  const exempt = [provider, ...breakGlass, ...b.viaS3Only];
  statements.push({
    Sid: 'DenyOutsideVpcEndpoint',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: everything,
    Condition: { StringNotEquals: network, ArnNotLike: { 'aws:PrincipalArn': exempt } },
  });
  // The provider manages configuration, never data: no object action and no listing, by any path.
  statements.push(
    {
      Sid: 'DenyObjectsToProvider',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: `${b.arn}/*`,
      Condition: { ArnLike: { 'aws:PrincipalArn': provider } },
    },
    {
      Sid: 'DenyListingToProvider',
      Effect: 'Deny',
      Principal: '*',
      Action: LISTING_ACTIONS,
      Resource: b.arn,
      Condition: { ArnLike: { 'aws:PrincipalArn': provider } },
    },
  );
  if (b.region === env.region) {
    // s3:ListBucket authorises both HeadBucket (the provider's existence check) and listing every
    // key, and no condition key tells them apart: the provider runs in the cluster behind the
    // endpoint, so it gets s3:ListBucket only there, never from the internet. (A bucket in another
    // region is out of the gateway endpoint's reach: README, "What the provider can see".)
    statements.push({
      Sid: 'DenyProviderListingOutsideVpcEndpoint',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:ListBucket',
      Resource: b.arn,
      Condition: { StringNotEquals: network, ArnLike: { 'aws:PrincipalArn': provider } },
    });
  }
  // Only this bucket's own principals, whatever their IAM policies say: an over-granted role of the
  // account (a node role with s3:*) must not list, delete or re-policy the tenant's data.
  statements.push({
    Sid: 'DenyPrincipalsOutsideThisBucket',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: everything,
    Condition: { ArnNotLike: { 'aws:PrincipalArn': [...b.admitted, ...exempt] } },
  });
  if (b.accessPoints.length > 0) {
    statements.push({
      Sid: 'DelegateToAccessPointsOfThisAccount',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Resource: everything,
      // Only the access points this claim created: not one somebody else attaches to the bucket.
      Condition: {
        StringEquals: { 's3:DataAccessPointAccount': env.accountId, 'aws:PrincipalAccount': env.accountId, 's3:DataAccessPointArn': b.accessPoints },
      },
    });
  }
  statements.push(...objectLockBucketPolicyStatements(ctx, b));
  return statements;
}

export function bucketPolicyDocumentFor(ctx: RenderContext, b: OwnedBucket): string {
  return renderPolicy(policy(bucketPolicyStatementsFor(ctx, b)));
}

export function bucketPolicyResourcesFor(ctx: RenderContext, b: OwnedBucket): Record<string, ManagedResource> {
  return bucketPart(ctx, b, { part: 'policy', kind: 'BucketPolicy', fields: { policy: bucketPolicyDocumentFor(ctx, b) } });
}
