// Names and ARNs, shared by the function and cdk8s/: the ServiceAccount's role ARN must be
// exactly the role the function creates, so both sides call these.
import { createHash } from 'node:crypto';
import type { BucketSpec, ClaimIdentity, Consumer, PlatformEnvironment } from './types.js';

/** Short, stable hash: keeps names unique where the readable part is ambiguous or cut. */
export function shortHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 8);
}

/**
 * An AWS name with a length limit: `readable` cut to fit `max`, then a short hash of what makes
 * the name unique, so two long names never collide after the cut. Never ends the cut in '-' or '.'.
 */
export function boundedName(readable: string, max: number, ...uniqueParts: string[]): string {
  const hash = shortHash(...uniqueParts);
  const cut = readable.slice(0, max - hash.length - 1).replace(/[-.]+$/, '');
  return `${cut}-${hash}`;
}

/**
 * The S3 bucket name. Generated names always carry a hash of (account, namespace, claim):
 * `team-a` + `b-c` and `team-a-b` + `c` read alike, and two tenants must never share a name,
 * because Crossplane would adopt the other tenant's bucket through its external name.
 */
export function bucketName(identity: ClaimIdentity, spec: Pick<BucketSpec, 'naming'>, env: PlatformEnvironment): string {
  if (spec.naming.strategy === 'Fixed') return spec.naming.name;
  const readable = `${env.bucketNamePrefix}-${identity.claimNamespace}-${identity.claimName}`.toLowerCase();
  return boundedName(readable, 63, env.accountId, identity.claimNamespace, identity.claimName);
}

/** IAM role name of one consumer (IAM allows 64 characters). */
export function consumerRoleName(identity: ClaimIdentity, consumer: Pick<Consumer, 'name'>, env: PlatformEnvironment): string {
  const readable = `${env.clusterName}-${identity.claimNamespace}-${identity.claimName}-${consumer.name}`;
  return boundedName(readable, 64, env.clusterName, identity.claimNamespace, identity.claimName, consumer.name);
}

export function roleArn(env: PlatformEnvironment, roleName: string): string {
  return `arn:${env.partition}:iam::${env.accountId}:role${env.identity.rolePath}${roleName}`;
}

export function consumerRoleArn(identity: ClaimIdentity, consumer: Pick<Consumer, 'name'>, env: PlatformEnvironment): string {
  return roleArn(env, consumerRoleName(identity, consumer, env));
}

/** Access point names: 3-50 characters, unique per account and region. */
export function accessPointName(identity: ClaimIdentity, consumer: Pick<Consumer, 'name'>, env: PlatformEnvironment): string {
  const readable = `${identity.claimNamespace}-${identity.claimName}-${consumer.name}`.toLowerCase();
  return boundedName(readable, 50, env.accountId, identity.claimNamespace, identity.claimName, consumer.name);
}

export function accessPointArn(env: PlatformEnvironment, region: string, name: string): string {
  return `arn:${env.partition}:s3:${region}:${env.accountId}:accesspoint/${name}`;
}

export function bucketArn(env: PlatformEnvironment, bucket: string): string {
  return `arn:${env.partition}:s3:::${bucket}`;
}

export function kmsAliasName(bucket: string): string {
  return `alias/secure-bucket/${bucket}`;
}

/** Replication role: one per bucket, only when the claim replicates. */
export function replicationRoleName(identity: ClaimIdentity, env: PlatformEnvironment): string {
  const readable = `${env.clusterName}-${identity.claimNamespace}-${identity.claimName}-replication`;
  return boundedName(readable, 64, env.clusterName, identity.claimNamespace, identity.claimName, 'replication');
}

/** The Kubernetes subject a consumer's IRSA trust names: always the claim's own namespace. */
export function serviceAccountSubject(identity: ClaimIdentity, consumer: Pick<Consumer, 'serviceAccount'>): string {
  return `system:serviceaccount:${identity.claimNamespace}:${consumer.serviceAccount}`;
}

/** Labels the core puts on every composed resource, so selectors and audits can find them. */
export function ownerLabels(identity: ClaimIdentity): Record<string, string> {
  return {
    'platform.example.org/claim-name': identity.claimName,
    'platform.example.org/claim-namespace': identity.claimNamespace,
  };
}
