// The network path: S3 requests come through a gateway VPC endpoint (no NAT charges). A route
// table takes only one S3 gateway endpoint, so by default the bucket uses the platform's shared
// one; a dedicated endpoint is for a VPC of its own.
import { VPC_ENDPOINT, type RenderContext } from './context.js';
import { policy, renderPolicy, type PolicyDocument } from './policy.js';
import { managed, sameXrSelector } from './resources.js';
import type { ManagedResource, PlatformEnvironment } from './types.js';

/**
 * AWS-owned buckets a node reads through the same endpoint, per region, as AWS documents them:
 * the Amazon Linux 2 and 2023 package repositories (Amazon Linux user guides, "package repository"
 * with a gateway endpoint) and the buckets SSM Agent fetches from (Systems Manager user guide, "SSM
 * Agent communications with AWS managed S3 buckets"). Reads only: nothing is ever written there.
 */
export function awsManagedReadBuckets(region: string): string[] {
  return [
    `amazonlinux.${region}.amazonaws.com`,
    `amazonlinux-2-repos-${region}`,
    `al2023-repos-${region}-de612dc2`,
    `aws-ssm-${region}`,
    `amazon-ssm-${region}`,
    `amazon-ssm-packages-${region}`,
    `${region}-birdwatcher-prod`,
    `aws-ssm-distributor-file-${region}`,
    `aws-ssm-document-attachments-${region}`,
    `patch-baseline-snapshot-${region}`,
  ];
}

/**
 * The endpoint policy: this account's principals on this platform's buckets (every bucket name
 * starts with the platform's prefix, fixed names included) and access points, plus what EKS itself
 * fetches through the same endpoint (ECR keeps image layers in S3: an endpoint policy that forgets
 * them breaks every image pull on the nodes behind it). The name pattern and ownership together:
 * a pattern alone would let data out to a look-alike bucket in another account.
 */
export function endpointPolicyDocument(env: PlatformEnvironment, region: string): PolicyDocument {
  const p = env.partition;
  const buckets = [`${env.bucketNamePrefix}-*`, env.audit.logBucket, env.audit.inventoryBucket].flatMap((b) =>
    b ? [`arn:${p}:s3:::${b}`, `arn:${p}:s3:::${b}/*`] : [],
  );
  return policy([
    {
      Sid: 'PlatformBucketsAndAccessPoints',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:*',
      Resource: [...buckets, `arn:${p}:s3:${region}:${env.accountId}:accesspoint/*`],
      Condition: { StringEquals: { 'aws:PrincipalAccount': env.accountId, 'aws:ResourceAccount': env.accountId } },
    },
    {
      Sid: 'EcrImageLayers',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:${p}:s3:::prod-${region}-starport-layer-bucket/*`,
    },
    {
      Sid: 'OsPackagesAndSsmAgent',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: awsManagedReadBuckets(region).map((b) => `arn:${p}:s3:::${b}/*`),
      // Only this account's nodes: outside credentials inside the VPC get no channel through it.
      Condition: { StringEquals: { 'aws:PrincipalAccount': env.accountId } },
    },
  ]);
}

export function endpointPolicy(env: PlatformEnvironment, region: string): string {
  return renderPolicy(endpointPolicyDocument(env, region));
}

/** A dedicated gateway endpoint and its route-table associations; nothing for a shared one. */
export function networkResources(ctx: RenderContext): Record<string, ManagedResource> {
  const { env, identity, spec } = ctx;
  if (env.network.endpoint.mode !== 'Dedicated') return {};
  const region = spec.region;
  const out: Record<string, ManagedResource> = {
    [VPC_ENDPOINT]: managed(identity, {
      kind: 'VPCEndpoint',
      component: VPC_ENDPOINT,
      forProvider: {
        region,
        vpcId: env.network.vpcId,
        serviceName: `com.amazonaws.${region}.s3`,
        vpcEndpointType: 'Gateway',
        policy: endpointPolicy(env, region),
        tags: ctx.tags,
      },
    }),
  };
  env.network.endpoint.routeTableIds.forEach((routeTableId) => {
    out[`vpc-endpoint-route-${routeTableId}`] = managed(identity, {
      kind: 'VPCEndpointRouteTableAssociation',
      component: 'vpc-endpoint-route',
      forProvider: {
        region,
        routeTableId,
        vpcEndpointIdSelector: sameXrSelector(VPC_ENDPOINT),
      },
    });
  });
  return out;
}
