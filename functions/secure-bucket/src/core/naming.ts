// Names and ARNs, shared by the function and cdk8s/: the ServiceAccount's role ARN must be
// exactly the role the function creates, so both sides call these.
import { hash } from 'node:crypto';
import { PlatformError, type BucketSpec, type ClaimIdentity, type Consumer, type PlatformEnvironment } from './types.js';

const HASH_LENGTH = 8;
const BUCKET_NAME_MAX = 63;
const ROLE_NAME_MAX = 64;
const ACCESS_POINT_NAME_MAX = 50;
/** How much of a readable name survives boundedName's cut (the rest is '-' and the hash). */
export const BUCKET_NAME_ROOM = BUCKET_NAME_MAX - HASH_LENGTH - 1;
export const ROLE_NAME_ROOM = ROLE_NAME_MAX - HASH_LENGTH - 1;
export const ACCESS_POINT_NAME_ROOM = ACCESS_POINT_NAME_MAX - HASH_LENGTH - 1;

/** Kubernetes names may hold dots; bucket names with dots break TLS, access point names refuse them. */
function withoutDots(name: string): string {
  return name.replaceAll('.', '-');
}

/** Short, stable hash: keeps names unique where the readable part is ambiguous or cut. */
export function shortHash(...parts: string[]): string {
  // crypto.hash: one-shot, no Hash object per name (names are hashed many times per render).
  return hash('sha256', parts.join('\u0000'), 'hex').slice(0, HASH_LENGTH);
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
 * The segment that stands for the claim's namespace in every AWS name: registered by the platform
 * (EnvironmentConfig tenants), never a hyphen-prefix of another tenant's, so two tenants' names
 * always differ within the part no cut removes. An unregistered namespace gets no name at all.
 */
export function tenantSegment(identity: Pick<ClaimIdentity, 'claimNamespace'>, env: Pick<PlatformEnvironment, 'tenants'>): string {
  const tenant = env.tenants[identity.claimNamespace];
  if (tenant === undefined) {
    throw new PlatformError(
      'EnvironmentConfig data.tenants',
      `has no entry for namespace ${identity.claimNamespace}: the platform names buckets, roles and access points only for registered tenants`,
      `the platform team registers ${identity.claimNamespace} under data.tenants (clusters/README.md, "Add a tenant")`,
    );
  }
  return tenant.nameSegment;
}

/**
 * The installation this render belongs to, as the installation tag says it: installationId, or for
 * the installation that predates it, its clusterName (what its resources' cluster tag already holds).
 */
export function installationOf(env: Pick<PlatformEnvironment, 'installationId' | 'clusterName'>): string {
  return env.installationId ?? env.clusterName;
}

/**
 * What a generated name's hash gains for this installation: nothing for the installation that
 * predates installationId (its names stay as they were), else the id (and the bucket prefix, which
 * access point names do not otherwise carry), so two installations of one account never share a name.
 */
function installationParts(env: Pick<PlatformEnvironment, 'installationId' | 'bucketNamePrefix'>): string[] {
  return env.installationId === undefined ? [] : ['installation', env.installationId, env.bucketNamePrefix];
}

/** Every bucket name of a tenant starts with this, Fixed or Generated. */
export function tenantBucketPrefix(identity: Pick<ClaimIdentity, 'claimNamespace'>, env: PlatformEnvironment): string {
  return `${env.bucketNamePrefix}-${tenantSegment(identity, env)}-`;
}

/**
 * The S3 bucket name. Generated names always carry a hash of (account, namespace, claim):
 * `team-a` + `b-c` and `team-a-b` + `c` read alike within a tenant; across tenants the registered
 * segment keeps names apart, because Crossplane adopts any bucket with the same external name.
 */
export function bucketName(identity: ClaimIdentity, spec: Pick<BucketSpec, 'naming'>, env: PlatformEnvironment): string {
  if (spec.naming.strategy === 'Fixed') return spec.naming.name;
  const readable = `${tenantBucketPrefix(identity, env)}${withoutDots(identity.claimName)}`.toLowerCase();
  return boundedName(readable, BUCKET_NAME_MAX, env.accountId, ...installationParts(env), identity.claimNamespace, identity.claimName);
}

/** IAM role name of one consumer (IAM allows 64 characters). */
export function consumerRoleName(identity: ClaimIdentity, consumer: Pick<Consumer, 'name'>, env: PlatformEnvironment): string {
  const readable = `${env.clusterName}-${tenantSegment(identity, env)}-${identity.claimName}-${consumer.name}`;
  return boundedName(readable, ROLE_NAME_MAX, env.clusterName, ...installationParts(env), identity.claimNamespace, identity.claimName, consumer.name);
}

/** The account's root principal: key and access-point policies name it, always with a condition. */
export function accountRootArn(env: Pick<PlatformEnvironment, 'partition' | 'accountId'>): string {
  return `arn:${env.partition}:iam::${env.accountId}:root`;
}

export function clusterArn(env: PlatformEnvironment): string {
  return `arn:${env.partition}:eks:${env.region}:${env.accountId}:cluster/${env.clusterName}`;
}

export function roleArn(env: PlatformEnvironment, roleName: string): string {
  return `arn:${env.partition}:iam::${env.accountId}:role${env.identity.rolePath}${roleName}`;
}

export function consumerRoleArn(identity: ClaimIdentity, consumer: Pick<Consumer, 'name'>, env: PlatformEnvironment): string {
  return roleArn(env, consumerRoleName(identity, consumer, env));
}

/** Access point names: 3-50 characters, unique per account and region. */
export function accessPointName(identity: ClaimIdentity, consumer: Pick<Consumer, 'name'>, env: PlatformEnvironment): string {
  const readable = `${tenantSegment(identity, env)}-${withoutDots(identity.claimName)}-${consumer.name}`.toLowerCase();
  return boundedName(readable, ACCESS_POINT_NAME_MAX, env.accountId, ...installationParts(env), identity.claimNamespace, identity.claimName, consumer.name);
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
  const readable = `${env.clusterName}-${tenantSegment(identity, env)}-${identity.claimName}-replication`;
  return boundedName(readable, ROLE_NAME_MAX, env.clusterName, ...installationParts(env), identity.claimNamespace, identity.claimName, 'replication');
}

/** The Kubernetes subject a consumer's IRSA trust names: always the claim's own namespace. */
export function serviceAccountSubject(identity: ClaimIdentity, consumer: Pick<Consumer, 'serviceAccount'>): string {
  return `system:serviceaccount:${identity.claimNamespace}:${consumer.serviceAccount}`;
}

/** Tag (and label) naming the namespace that owns a resource: adoption.ts trusts nothing else. */
export const OWNER_NAMESPACE_TAG = 'platform.example.org/claim-namespace';
export const OWNER_NAME_TAG = 'platform.example.org/claim-name';
/** Which API (claim or v2 XR) requested it; absent on what was tagged before v2, when only claims existed. */
export const OWNER_API_TAG = 'platform.example.org/requested-through';
/** The installation (installationOf) that made a resource; before the tag existed, the cluster tag said it. */
export const INSTALLATION_TAG = 'platform.example.org/installation';
export const CLUSTER_TAG = 'platform.example.org/cluster';
/**
 * The installation's home region (its cluster's): EKS cluster names are unique per region, not per
 * account, so without an installationId two same-named clusters share the installation tag. With
 * this tag adoption tells them apart; absent on what was tagged before it existed.
 */
export const INSTALLATION_REGION_TAG = 'platform.example.org/installation-region';
/** The tag the provider role's KMS permissions are conditioned on: only keys carrying it are the platform's. */
export const MANAGED_BY_TAG = 'platform.example.org/managed-by';
export const MANAGED_BY = 'function-secure-bucket';

/** Labels the core puts on every composed resource, so selectors and audits can find them. */
export function ownerLabels(identity: ClaimIdentity): Record<string, string> {
  return {
    [OWNER_NAME_TAG]: identity.claimName,
    [OWNER_NAMESPACE_TAG]: identity.claimNamespace,
  };
}
