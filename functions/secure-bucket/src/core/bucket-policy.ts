// The bucket policy: explicit denies that hold for everybody (TLS, encryption, network path), and
// the delegation to this account's access points. Consumers get their allows from their roles.
import type { RenderContext } from './context.js';
import { policy, renderPolicy, type Statement } from './policy.js';
import { managed } from './resources.js';
import type { ManagedResource } from './types.js';

export function bucketPolicyStatements(ctx: RenderContext): Statement[] {
  const { bucketArn, env, spec } = ctx;
  const everything = [bucketArn, `${bucketArn}/*`];
  const objects = `${bucketArn}/*`;
  const statements: Statement[] = [
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
      Condition: { NumericLessThan: { 's3:TlsVersion': spec.tls.minimumVersion } },
    },
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
      Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
    },
  ];
  if (ctx.keyArn !== undefined) {
    statements.push({
      Sid: 'DenyForeignKmsKeys',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: objects,
      Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': ctx.keyArn } },
    });
  }
  // Never lock out the provider that manages this policy, nor the break-glass principals.
  const exempt = [env.access.providerRoleArn, ...env.access.breakGlassPrincipalArns];
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
  if (ctx.consumers.some((c) => c.accessPoint)) {
    statements.push({
      Sid: 'DelegateToAccessPointsOfThisAccount',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Resource: everything,
      Condition: { StringEquals: { 's3:DataAccessPointAccount': env.accountId, 'aws:PrincipalAccount': env.accountId } },
    });
  }
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
    }),
  };
}
