// One IAM role per consumer: trusted only by its ServiceAccount in the claim's own namespace
// (IRSA or EKS Pod Identity, as the platform chose), bounded by the platform's permissions
// boundary, allowed only its access level's actions on its own prefixes.
import type { RenderContext, ResolvedConsumer } from './context.js';
import { serviceAccountSubject } from './naming.js';
import { policy, renderPolicy, type PolicyDocument, type Statement } from './policy.js';
import { managed } from './resources.js';
import type { AccessLevel, ManagedResource } from './types.js';

/** Exact S3 actions per access level: no wildcards, so a new AWS action is never granted silently. */
export const OBJECT_ACTIONS: Record<AccessLevel, string[]> = {
  Read: ['s3:GetObject', 's3:GetObjectVersion'],
  Write: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  ReadWrite: [
    's3:GetObject',
    's3:GetObjectVersion',
    's3:PutObject',
    's3:AbortMultipartUpload',
    's3:ListMultipartUploadParts',
    's3:DeleteObject',
  ],
};

/** Listing is reading: write-only consumers cannot enumerate keys. */
export function canList(access: AccessLevel): boolean {
  return access !== 'Write';
}

export function trustPolicyDocument(ctx: RenderContext, consumer: ResolvedConsumer): PolicyDocument {
  const { env, identity } = ctx;
  if (env.identity.mode === 'IRSA') {
    const issuer = env.identity.oidcIssuer as string;
    return policy([
      {
        Sid: 'ServiceAccountWebIdentity',
        Effect: 'Allow',
        Principal: { Federated: `arn:${env.partition}:iam::${env.accountId}:oidc-provider/${issuer}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        // StringEquals, never StringLike: a wildcard would let other service accounts in.
        Condition: { StringEquals: { [`${issuer}:sub`]: serviceAccountSubject(identity, consumer), [`${issuer}:aud`]: 'sts.amazonaws.com' } },
      },
    ]);
  }
  return policy([
    {
      Sid: 'EksPodIdentity',
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      // The association binds the role to one ServiceAccount; the session tags pin it again here.
      Condition: {
        StringEquals: {
          'aws:SourceAccount': env.accountId,
          'aws:RequestTag/eks-cluster-name': env.clusterName,
          'aws:RequestTag/kubernetes-namespace': identity.claimNamespace,
          'aws:RequestTag/kubernetes-service-account': consumer.serviceAccount,
        },
      },
    },
  ]);
}

/** Object ARNs under each prefix, on the bucket and (when it has one) on its access point. */
function objectResources(ctx: RenderContext, consumer: ResolvedConsumer): string[] {
  const out = consumer.prefixes.map((p) => `${ctx.bucketArn}/${p}*`);
  if (consumer.accessPointArn) out.push(...consumer.prefixes.map((p) => `${consumer.accessPointArn}/object/${p}*`));
  return out;
}

export function accessPolicyDocument(ctx: RenderContext, consumer: ResolvedConsumer): PolicyDocument {
  const statements: Statement[] = [
    { Sid: 'ObjectsUnderOwnPrefixes', Effect: 'Allow', Action: OBJECT_ACTIONS[consumer.access], Resource: objectResources(ctx, consumer) },
  ];
  if (canList(consumer.access)) {
    const containers = [ctx.bucketArn];
    if (consumer.accessPointArn) containers.push(consumer.accessPointArn);
    statements.push({
      Sid: 'ListOwnPrefixes',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: containers,
      Condition: { StringLike: { 's3:prefix': consumer.prefixes.map((p) => `${p}*`) } },
    });
  }
  if (ctx.keyArn !== undefined) {
    const kmsActions = consumer.access === 'Read' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:GenerateDataKey'];
    statements.push({ Sid: 'BucketKeyViaS3', Effect: 'Allow', Action: kmsActions, Resource: ctx.keyArn });
  }
  return policy(statements);
}

export function identityResources(ctx: RenderContext): Record<string, ManagedResource> {
  const { env, identity, spec } = ctx;
  const out: Record<string, ManagedResource> = {};
  for (const consumer of ctx.consumers) {
    out[`consumer-${consumer.name}-role`] = managed(
      identity,
      'iam.aws.upbound.io/v1beta1',
      'Role',
      'consumer-role',
      {
        assumeRolePolicy: renderPolicy(trustPolicyDocument(ctx, consumer)),
        description: `S3 ${consumer.access} on s3://${ctx.bucketName} for ${identity.claimNamespace}/${consumer.serviceAccount}`,
        path: env.identity.rolePath,
        permissionsBoundary: env.identity.permissionsBoundaryArn,
        maxSessionDuration: 3600,
        inlinePolicy: [{ name: 'bucket-access', policy: renderPolicy(accessPolicyDocument(ctx, consumer)) }],
        tags: { ...ctx.tags, 'platform.example.org/consumer': consumer.name },
      },
      { externalName: consumer.roleName },
    );
    if (env.identity.mode === 'PodIdentity') {
      out[`consumer-${consumer.name}-pod-identity`] = managed(identity, 'eks.aws.upbound.io/v1beta1', 'PodIdentityAssociation', 'pod-identity', {
        region: spec.region,
        clusterName: env.clusterName,
        namespace: identity.claimNamespace,
        serviceAccount: consumer.serviceAccount,
        roleArn: consumer.roleArn,
        tags: ctx.tags,
      });
    }
  }
  return out;
}
