import { accountRootArn } from './naming.js';
// An access point per consumer that asks for one: reachable only from the platform's VPC, its
// policy limited to that consumer's role and prefixes. The bucket policy delegates to it.
import type { RenderContext, ResolvedConsumer } from './context.js';
import { OBJECT_ACTIONS, canList } from './identity.js';
import { policy, renderPolicy, type Statement } from './policy.js';
import { managed } from './resources.js';
import type { ManagedResource } from './types.js';

const LISTING_ACTIONS = ['s3:ListBucket', 's3:ListBucketMultipartUploads', 's3:ListBucketVersions'];

export function accessPointPolicy(ctx: RenderContext, consumer: ResolvedConsumer): string {
  const ap = consumer.accessPointArn as string;
  const onlyThisRole = { ArnEquals: { 'aws:PrincipalArn': consumer.roleArn } };
  const statements: Statement[] = [
    {
      Sid: 'ConsumerObjects',
      Effect: 'Allow',
      Principal: { AWS: accountRootArn(ctx.env) },
      Action: OBJECT_ACTIONS[consumer.access],
      Resource: consumer.prefixes.map((p) => `${ap}/object/${p}*`),
      Condition: onlyThisRole,
    },
  ];
  // An allow alone limits nothing: any role of the account whose IAM policy names the access point
  // would get in. So the data behind it is denied to everyone but this consumer. Management of the
  // access point itself (the provider's job) is on the access point's ARN and stays untouched.
  const othersThanThisRole = { ArnNotEquals: { 'aws:PrincipalArn': consumer.roleArn } };
  statements.push(
    { Sid: 'DenyObjectsToOthers', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `${ap}/object/*`, Condition: othersThanThisRole },
    { Sid: 'DenyListingToOthers', Effect: 'Deny', Principal: '*', Action: LISTING_ACTIONS, Resource: ap, Condition: othersThanThisRole },
  );
  if (canList(consumer.access)) {
    statements.push({
      Sid: 'ConsumerListsOwnPrefixes',
      Effect: 'Allow',
      Principal: { AWS: accountRootArn(ctx.env) },
      Action: 's3:ListBucket',
      Resource: ap,
      Condition: { ...onlyThisRole, StringLike: { 's3:prefix': consumer.prefixes.map((p) => `${p}*`) } },
    });
  }
  return renderPolicy(policy(statements));
}

/** The composition resource name of a consumer's access point (status reads its alias back). */
export function accessPointResourceName(consumer: Pick<ResolvedConsumer, 'name'>): string {
  return `consumer-${consumer.name}-access-point`;
}

export function accessPointResources(ctx: RenderContext): Record<string, ManagedResource> {
  const out: Record<string, ManagedResource> = {};
  for (const consumer of ctx.consumers) {
    if (!consumer.accessPointName) continue;
    // provider-aws identifies an access point as <account>:<name> (terraform's import id): named so,
    // a claim migrated to v2 (or re-created) takes its access point over instead of failing to create it.
    out[accessPointResourceName(consumer)] = managed(ctx.identity, {
      kind: 'AccessPoint',
      component: 'access-point',
      forProvider: {
        region: ctx.spec.region,
        accountId: ctx.env.accountId,
        bucket: ctx.bucketName,
        name: consumer.accessPointName,
        // VPC network origin: the access point refuses any request from outside the VPC.
        vpcConfiguration: { vpcId: ctx.env.network.vpcId },
        publicAccessBlockConfiguration: { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        policy: accessPointPolicy(ctx, consumer),
      },
      externalName: `${ctx.env.accountId}:${consumer.accessPointName}`,
    });
  }
  return out;
}
