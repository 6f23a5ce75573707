// The bucket policy: explicit denies that hold for everybody (TLS, encryption, network path), and
// the delegation to this account's access points. Consumers get their allows from their roles.
import type { RenderContext } from './context.js';
import { objectLockBucketPolicyStatements } from './object-lock.js';
import { policy, renderPolicy, type Statement } from './policy.js';
import { replicationPrincipals } from './replication.js';
import { bucketConfiguration, managed } from './resources.js';
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

export function bucketPolicyStatements(ctx: RenderContext): Statement[] {
  const { bucketArn, env, spec } = ctx;
  const everything = [bucketArn, `${bucketArn}/*`];
  const objects = `${bucketArn}/*`;
  const statements: Statement[] = [
    ...transportStatements(bucketArn, spec.tls.minimumVersion),
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
  ];
  if (ctx.keyArn !== undefined) {
    statements.push({
      Sid: 'DenyForeignKmsKeys',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: objects,
      Condition: {
        StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': ctx.keyArn },
        Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
      },
    });
  }
  // Never lock out the provider that manages this policy, nor the break-glass principals.
  const exempt = [env.access.providerRoleArn, ...env.access.breakGlassPrincipalArns];
  // S3 itself reads the source for replication, from outside any VPC endpoint, as the replication
  // role: a role only s3.amazonaws.com may assume for this bucket, allowed only replication reads.
  exempt.push(...replicationPrincipals(ctx));
  statements.push({
    Sid: 'DenyOutsideVpcEndpoint',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: everything,
    Condition:
      ctx.endpointId !== undefined
        ? { StringNotEquals: { 'aws:SourceVpce': ctx.endpointId }, ArnNotLike: { 'aws:PrincipalArn': exempt } }
        : // A dedicated endpoint's id is known only after creation: until then, hold to the VPC.
          { StringNotEquals: { 'aws:SourceVpc': env.network.vpcId }, ArnNotLike: { 'aws:PrincipalArn': exempt } },
  });
  // Only this bucket's own principals, whatever their IAM policies say: an over-granted role of the
  // account (a node role with s3:*) must not list, delete or re-policy the tenant's data.
  statements.push({
    Sid: 'DenyPrincipalsOutsideThisBucket',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: everything,
    Condition: { ArnNotLike: { 'aws:PrincipalArn': [...ctx.consumers.map((c) => c.roleArn), ...exempt] } },
  });
  const accessPoints = ctx.consumers.flatMap((c) => (c.accessPointArn ? [c.accessPointArn] : []));
  if (accessPoints.length > 0) {
    statements.push({
      Sid: 'DelegateToAccessPointsOfThisAccount',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Resource: everything,
      // Only the access points this claim created: not one somebody else attaches to the bucket.
      Condition: {
        StringEquals: { 's3:DataAccessPointAccount': env.accountId, 'aws:PrincipalAccount': env.accountId, 's3:DataAccessPointArn': accessPoints },
      },
    });
  }
  statements.push(...objectLockBucketPolicyStatements(ctx));
  return statements;
}

export function bucketPolicyDocument(ctx: RenderContext): string {
  return renderPolicy(policy(bucketPolicyStatements(ctx)));
}

export function bucketPolicyResources(ctx: RenderContext): Record<string, ManagedResource> {
  return {
    'bucket-policy': managed(ctx.identity, 's3.aws.upbound.io/v1beta1', 'BucketPolicy', 'bucket-policy', {
      region: ctx.spec.region,
      bucket: ctx.bucketName,
      policy: bucketPolicyDocument(ctx),
    }, bucketConfiguration(ctx.bucketName)),
  };
}
