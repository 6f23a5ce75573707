// One IAM role per consumer: trusted only by its ServiceAccount in the claim's own namespace
// (IRSA or EKS Pod Identity, as the platform chose), bounded by the platform's permissions
// boundary, allowed only its access level's actions on its own prefixes.
import type { RenderContext, ResolvedConsumer } from './context.js';
import { s3ViaService } from './encryption.js';
import { clusterArn, serviceAccountSubject } from './naming.js';
import { governanceBypassStatement } from './object-lock.js';
import { policy, renderPolicy, type PolicyDocument, type Statement } from './policy.js';
import { managed } from './resources.js';
import type { AccessLevel, ManagedResource } from './types.js';

/** Exact S3 actions per access level: no wildcards, so a new AWS action is never granted silently. */
export const OBJECT_ACTIONS: Record<AccessLevel, string[]> = {
  Read: ['s3:GetObject', 's3:GetObjectVersion'],
  Write: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  ReadWrite: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:DeleteObject'],
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
      // The association binds the role to one ServiceAccount; the session tags pin it again here, and
      // aws:SourceAccount with aws:SourceArn (AWS's confused-deputy guard for EKS Pod Identity) pin
      // the cluster: another cluster of the account with a same-named namespace gets nothing.
      Condition: {
        StringEquals: {
          'aws:SourceAccount': env.accountId,
          'aws:RequestTag/eks-cluster-name': env.clusterName,
          'aws:RequestTag/kubernetes-namespace': identity.claimNamespace,
          'aws:RequestTag/kubernetes-service-account': consumer.serviceAccount,
        },
        ArnEquals: { 'aws:SourceArn': clusterArn(env) },
      },
    },
  ]);
}

/**
 * Where a consumer reaches its data: its access point when it asked for one (then only there:
 * one route to review, and the access point's own policy and VPC origin always apply), else the
 * bucket itself.
 */
function container(ctx: RenderContext, consumer: ResolvedConsumer): { arn: string; objectArn: (prefix: string) => string } {
  const ap = consumer.accessPointArn;
  if (ap !== undefined) return { arn: ap, objectArn: (p) => `${ap}/object/${p}*` };
  return { arn: ctx.bucketArn, objectArn: (p) => `${ctx.bucketArn}/${p}*` };
}

export function accessPolicyDocument(ctx: RenderContext, consumer: ResolvedConsumer): PolicyDocument {
  const where = container(ctx, consumer);
  const statements: Statement[] = [
    { Sid: 'ObjectsUnderOwnPrefixes', Effect: 'Allow', Action: OBJECT_ACTIONS[consumer.access], Resource: consumer.prefixes.map(where.objectArn) },
  ];
  if (canList(consumer.access)) {
    statements.push({
      Sid: 'ListOwnPrefixes',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: where.arn,
      Condition: { StringLike: { 's3:prefix': consumer.prefixes.map((p) => `${p}*`) } },
    });
  }
  const bypass = governanceBypassStatement(ctx, consumer);
  if (bypass) statements.push(bypass);
  if (ctx.keyArn !== undefined) {
    // Multipart uploads decrypt too, so writers get Decrypt; readers never get GenerateDataKey.
    const kmsActions = consumer.access === 'Read' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:GenerateDataKey'];
    statements.push({
      Sid: 'BucketKeyViaS3',
      Effect: 'Allow',
      Action: kmsActions,
      Resource: ctx.keyArn,
      Condition: { StringEquals: { 'kms:ViaService': s3ViaService(ctx.spec.region) } },
    });
  }
  return policy(statements);
}

export function identityResources(ctx: RenderContext): Record<string, ManagedResource> {
  const { env, identity, spec } = ctx;
  const out: Record<string, ManagedResource> = {};
  for (const consumer of ctx.consumers) {
    out[`consumer-${consumer.name}-role`] = managed(identity, {
      kind: 'Role',
      component: 'consumer-role',
      forProvider: {
        assumeRolePolicy: renderPolicy(trustPolicyDocument(ctx, consumer)),
        description: `S3 ${consumer.access} on s3://${ctx.bucketName} for ${identity.claimNamespace}/${consumer.serviceAccount}`,
        path: env.identity.rolePath,
        permissionsBoundary: env.identity.permissionsBoundaryArn,
        maxSessionDuration: 3600,
        inlinePolicy: [{ name: 'bucket-access', policy: renderPolicy(accessPolicyDocument(ctx, consumer)) }],
        tags: { ...ctx.tags, 'platform.example.org/consumer': consumer.name },
      },
      externalName: consumer.roleName,
    });
    if (env.identity.mode === 'PodIdentity') {
      out[`consumer-${consumer.name}-pod-identity`] = managed(identity, {
        kind: 'PodIdentityAssociation',
        component: 'pod-identity',
        forProvider: {
          region: spec.region,
          clusterName: env.clusterName,
          namespace: identity.claimNamespace,
          serviceAccount: consumer.serviceAccount,
          roleArn: consumer.roleArn,
          tags: ctx.tags,
        },
      });
    }
  }
  return out;
}
