// Everything the concern modules share for one render: the validated claim, the platform's
// settings, the derived names, and the values the provider has reported so far.
import {
  accessPointArn,
  accessPointName,
  bucketArn,
  bucketName,
  CLUSTER_TAG,
  consumerRoleName,
  INSTALLATION_REGION_TAG,
  INSTALLATION_TAG,
  installationOf,
  MANAGED_BY,
  MANAGED_BY_TAG,
  OWNER_API_TAG,
  ownerLabels,
  roleArn,
} from './naming.js';
import { observedString } from './resources.js';
import type { BucketSpec, ClaimIdentity, Consumer, ObservedResource, OtherRequest, PlatformEnvironment } from './types.js';

export interface ResolvedConsumer extends Consumer {
  roleName: string;
  roleArn: string;
  /** Set only when the consumer asked for an access point. */
  accessPointName?: string;
  accessPointArn?: string;
}

export interface RenderContext {
  identity: ClaimIdentity;
  spec: BucketSpec;
  env: PlatformEnvironment;
  observed: Record<string, ObservedResource>;
  bucketName: string;
  bucketArn: string;
  consumers: ResolvedConsumer[];
  /** Known once the provider created the key (later passes). */
  keyArn?: string;
  /** The S3 gateway endpoint requests must come through; known at once for a shared endpoint. */
  endpointId?: string;
  tags: Record<string, string>;
  /** Whether the other API's request of this name exists: looked up only while taking over from it. */
  otherRequest?: OtherRequest;
}

export const KMS_KEY = 'kms-key';
export const VPC_ENDPOINT = 'vpc-endpoint';

export function buildContext(identity: ClaimIdentity, spec: BucketSpec, env: PlatformEnvironment, observed: Record<string, ObservedResource>): RenderContext {
  const name = bucketName(identity, spec, env);
  const ctx: RenderContext = {
    identity,
    spec,
    env,
    observed,
    bucketName: name,
    bucketArn: bucketArn(env, name),
    consumers: spec.consumers.map((c) => {
      const roleName = consumerRoleName(identity, c, env);
      const resolved: ResolvedConsumer = { ...c, roleName, roleArn: roleArn(env, roleName) };
      if (c.accessPoint) {
        resolved.accessPointName = accessPointName(identity, c, env);
        resolved.accessPointArn = accessPointArn(env, spec.region, resolved.accessPointName);
      }
      return resolved;
    }),
    tags: {
      ...ownerLabels(identity),
      [OWNER_API_TAG]: identity.api,
      [CLUSTER_TAG]: env.clusterName,
      [INSTALLATION_TAG]: installationOf(env),
      [INSTALLATION_REGION_TAG]: env.region,
      [MANAGED_BY_TAG]: MANAGED_BY,
    },
  };
  const keyArn = observedString(observed, KMS_KEY, 'arn');
  if (keyArn !== undefined) ctx.keyArn = keyArn;
  const endpointId = env.network.endpoint.mode === 'Shared' ? env.network.endpoint.id : observedString(observed, VPC_ENDPOINT, 'id');
  if (endpointId !== undefined) ctx.endpointId = endpointId;
  return ctx;
}
