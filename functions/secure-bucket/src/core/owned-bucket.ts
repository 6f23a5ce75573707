// "A bucket this claim owns": the facts every bucket the function creates is described by (the
// source, its replica, any later one). A leaf of the concern modules: they import it, it imports
// none of them. Which buckets a claim owns is buckets.ts; the composer applies every bucket
// concern (compose.ts BUCKET_CONCERNS) to each, so the replica gets the source's hardening from
// the same code, never from a second list.
import { KMS_KEY, type RenderContext } from './context.js';
import { kindOf, type KindName } from './kinds.js';
import { bucketConfiguration, managed, observedString } from './resources.js';
import { isObject } from './fields.js';
import { ClaimError, type ManagedResource } from './types.js';

/** Composition resource name and component label of each part of a bucket. */
interface Part {
  name: string;
  component: string;
}

export interface BucketParts {
  bucket: Part;
  publicAccessBlock: Part;
  ownershipControls: Part;
  key: Part;
  alias: Part;
  encryption: Part;
  policy: Part;
  versioning: Part;
  objectLock: Part;
  logging: Part;
  lifecycle: Part;
  changeAlerts: Part;
  accessPointAlerts: Part;
  keyAlerts: Part;
}

/** The source's names are what clusters already hold: changing one would make Crossplane replace it. */
export const SOURCE_PARTS: BucketParts = {
  bucket: { name: 'bucket', component: 'bucket' },
  publicAccessBlock: { name: 'bucket-public-access-block', component: 'public-access-block' },
  ownershipControls: { name: 'bucket-ownership-controls', component: 'ownership-controls' },
  key: { name: KMS_KEY, component: KMS_KEY },
  alias: { name: 'kms-alias', component: 'kms-alias' },
  encryption: { name: 'bucket-encryption', component: 'encryption' },
  policy: { name: 'bucket-policy', component: 'bucket-policy' },
  versioning: { name: 'bucket-versioning', component: 'versioning' },
  objectLock: { name: 'bucket-object-lock', component: 'object-lock' },
  logging: { name: 'bucket-logging', component: 'access-logging' },
  lifecycle: { name: 'bucket-lifecycle', component: 'lifecycle' },
  changeAlerts: { name: 'bucket-change-alerts', component: 'change-alerts' },
  accessPointAlerts: { name: 'access-point-change-alerts', component: 'access-point-change-alerts' },
  keyAlerts: { name: 'key-change-alerts', component: 'key-change-alerts' },
};

const replica = (name: string): Part => ({ name, component: name });
export const REPLICA_PARTS: BucketParts = {
  bucket: replica('replica-bucket'),
  publicAccessBlock: replica('replica-public-access-block'),
  ownershipControls: replica('replica-ownership-controls'),
  key: replica('replica-kms-key'),
  alias: replica('replica-kms-alias'),
  encryption: replica('replica-encryption'),
  policy: replica('replica-bucket-policy'),
  versioning: replica('replica-versioning'),
  objectLock: replica('replica-object-lock'),
  logging: replica('replica-logging'),
  lifecycle: replica('replica-lifecycle'),
  changeAlerts: replica('replica-change-alerts'),
  accessPointAlerts: replica('replica-access-point-change-alerts'),
  keyAlerts: replica('replica-key-change-alerts'),
};

export interface OwnedBucket {
  parts: BucketParts;
  name: string;
  arn: string;
  region: string;
  /** The bucket's own key, once the provider reported it. */
  keyArn?: string;
  /** Who uses the data, and how: the consumers for the source, the replication role for the replica. */
  users: { decrypt: string[]; generateDataKey: string[]; encrypt: string[] };
  /** The data principals the bucket policy admits beside the provider and break-glass. */
  admitted: string[];
  /** Principals S3 itself acts as from outside any VPC endpoint (the replication role). */
  viaS3Only: string[];
  /** Access points this claim created on the bucket (source only). */
  accessPoints: string[];
  /** Principals that may bypass GOVERNANCE retention (none for COMPLIANCE). */
  governanceBypass: string[];
  /** Versioning on: object lock, replication or the claim need it. */
  versioned: boolean;
  /**
   * The account the bucket must belong to, sent as `expectedBucketOwner` where provider-aws offers it:
   * AWS then refuses to read or write a same-named bucket of another account (the replica's name is
   * predictable, so somebody else may create it first).
   */
  expectedOwner?: string;
}

/** The key ARN the provider reported for a bucket's key. */
export function reportedKeyArn(ctx: RenderContext, parts: BucketParts): string | undefined {
  return observedString(ctx.observed, parts.key.name, 'arn');
}

/** One configuration of an owned bucket, by name. */
export interface BucketPartSpec {
  part: keyof BucketParts;
  kind: KindName;
  fields: Record<string, unknown>;
}

/**
 * One of an owned bucket's configurations (s3.aws.upbound.io): named after its part, in the
 * bucket's region, on the bucket. Kinds that protect the data outlive the request (Orphan, like the
 * bucket): the catalog says which (kinds.ts outlivesRequest).
 */
export function bucketPart(ctx: RenderContext, b: OwnedBucket, { part, kind, fields }: BucketPartSpec): Record<string, ManagedResource> {
  const { name, component } = b.parts[part];
  // AWS names a bucket's configuration after its bucket (terraform's import id): a re-created or
  // migrated claim takes it over instead of writing a second one.
  const options = kindOf(kind).outlivesRequest ? bucketConfiguration(b.name) : { externalName: b.name };
  const owner =
    b.expectedOwner !== undefined && EXPECTS_BUCKET_OWNER.has(kind) && !managedWithoutOwner(ctx, name) ? { expectedBucketOwner: b.expectedOwner } : {};
  return { [name]: managed(ctx.identity, { kind, component, forProvider: { region: b.region, bucket: b.name, ...owner, ...fields }, ...options }) };
}

/** The bucket configurations whose provider-aws schema has `expectedBucketOwner` (../shared/schemas). */
export const EXPECTS_BUCKET_OWNER = new Set([
  'BucketVersioning',
  'BucketServerSideEncryptionConfiguration',
  'BucketLifecycleConfiguration',
  'BucketObjectLockConfiguration',
  'BucketLogging',
]);

/**
 * `expectedBucketOwner` is replace-only in terraform (upjet refuses the replacement): a part the
 * provider already manages without it keeps going without it rather than going unsynced.
 */
function managedWithoutOwner(ctx: RenderContext, name: string): boolean {
  const seen = ctx.observed[name]?.resource;
  if (seen === undefined) return false;
  const spec = isObject(seen['spec']) ? seen['spec'] : {};
  const policies = spec['managementPolicies'];
  const observeOnly = Array.isArray(policies) && policies.length === 1 && policies[0] === 'Observe';
  const forProvider = spec['forProvider'];
  return !observeOnly && isObject(forProvider) && forProvider['expectedBucketOwner'] === undefined;
}

/** What the provider reports when AWS refuses a request carrying `x-amz-expected-bucket-owner`. */
const OWNER_REFUSED = /AccessDenied|status code: 403|StatusCode: 403/;

/**
 * Adoption only of a bucket proven to be in the platform's account: a configuration read with
 * `expectedBucketOwner` that AWS refuses means the bucket under that name is somebody else's (tags
 * prove nothing: any owner can set them). Refused before anything is taken over.
 */
export function refuseForeignBuckets(ctx: RenderContext, resources: Record<string, ManagedResource>): void {
  for (const [name, resource] of Object.entries(resources)) {
    const forProvider = resource.spec['forProvider'];
    const owner = isObject(forProvider) ? forProvider['expectedBucketOwner'] : undefined;
    if (typeof owner !== 'string' || !isObject(forProvider)) continue;
    const reported = ctx.observed[name]?.resource.status?.conditions;
    const synced = (Array.isArray(reported) ? reported : []).find((c) => isObject(c) && c['type'] === 'Synced') as
      { status?: unknown; message?: unknown } | undefined;
    if (synced?.status !== 'False' || typeof synced.message !== 'string' || !OWNER_REFUSED.test(synced.message)) continue;
    const bucket = String(forProvider['bucket']);
    const field =
      bucket === ctx.bucketName ? (ctx.spec.naming.strategy === 'Fixed' ? 'spec.naming.name' : 'spec.naming') : 'spec.replication.destinationRegion';
    throw new ClaimError(
      field,
      `s3://${bucket} is not proven to be in account ${owner}: AWS refused to read its ${resource.kind} as that owner's (${synced.message}); another account may hold the name, and nothing was taken over`,
      `ask the platform team to check who owns s3://${bucket}; until then remove ${field === 'spec.replication.destinationRegion' ? 'spec.replication' : 'the claim'} (no data was written to it)`,
    );
  }
}
