// The contract of the pure core: what a claim may ask for, what the platform decides, and
// what the core hands back. Nothing here knows about gRPC or files.
import type { BucketApi } from './api.js';

// The claim's own shapes are generated from the schema (make xrds): one source for every field.
import type { ClaimSpec } from './claim-api.generated.js';
export type {
  AccessLevel,
  Alarms,
  Consumer,
  Lifecycle,
  LifecycleRule,
  LockMode,
  ObjectLock,
  StorageClass,
  TlsVersion,
  Transition,
} from './claim-api.generated.js';

/**
 * The tenant's request, after defaults: spec of XSecureBucket / XSecureBucketClaim. The function
 * narrows two fields the schema cannot type: region falls back to the platform's, naming is a union.
 */
export interface BucketSpec extends Omit<ClaimSpec, 'region' | 'naming'> {
  region: string;
  naming: { strategy: 'Generated' } | { strategy: 'Fixed'; name: string };
}

/**
 * Who the claim is, never from its spec: a claim's XR names it in Crossplane's claim labels; a
 * namespaced v2 XR is its own claim (its metadata.name and metadata.namespace).
 */
export interface ClaimIdentity {
  /** metadata.name of the XR (cluster-unique for a claim's XR, namespace-unique for a v2 XR). */
  compositeName: string;
  claimName: string;
  claimNamespace: string;
  /** The API the bucket is requested through: a claim, or a v2 XR of the same namespace and name. */
  api: BucketApi;
  /** The other API whose resources this request may take over (the migration's one deliberate handover). */
  takeOverFrom?: BucketApi;
}

export type IdentityMode = 'IRSA' | 'PodIdentity';

/** Platform-owned settings, from the EnvironmentConfig: never from the tenant's claim. */
export interface PlatformEnvironment {
  accountId: string;
  partition: string;
  region: string;
  clusterName: string;
  /**
   * Names this platform installation among others in the same account. Unset: the installation
   * that predates the setting (its names unchanged, it is known by clusterName in tags).
   */
  installationId?: string;
  bucketNamePrefix: string;
  /**
   * Registered tenants: namespace -> the segment that stands for it in every AWS name. No segment
   * is another's hyphen-prefix, so no tenant can render a name another tenant renders or could.
   */
  tenants: Record<string, { nameSegment: string }>;
  identity: {
    mode: IdentityMode;
    /** IRSA: the cluster's OIDC issuer host and path, e.g. oidc.eks.us-east-1.amazonaws.com/id/ABC. */
    oidcIssuer?: string;
    permissionsBoundaryArn: string;
    rolePath: string;
  };
  network: {
    vpcId: string;
    /** Shared: the platform's S3 gateway endpoint; Dedicated: one per bucket on these route tables. */
    endpoint: { mode: 'Shared'; id: string } | { mode: 'Dedicated'; routeTableIds: string[] };
  };
  kms: { keyAdminArns: string[]; deletionWindowInDays: number };
  access: {
    breakGlassPrincipalArns: string[];
    /** The Crossplane provider's role: never locked out of the bucket policy. */
    providerRoleArn: string;
    /** The EKS node role: named so the access matrix can prove it gets nothing. */
    nodeRoleArn?: string;
  };
  /** logBucket is in the platform's region; S3 logs only within a region, so replicas elsewhere log to logBucketsByRegion. */
  audit: { logBucket?: string; inventoryBucket?: string; logBucketsByRegion: Record<string, string> };
  /** EventBridge delivers to SNS only within a region: the platform's topic in each region replicas live in. */
  alarms: { snsTopicArn?: string; snsTopicArnsByRegion?: Record<string, string> };
}

/** A provider-aws managed resource as the core emits it (plain JSON, canonical key order). */
export interface ManagedResource {
  apiVersion: string;
  kind: string;
  /** namespace: only in the namespaced family (core/family.ts). */
  metadata: { name?: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** What the provider reported for a composed resource on an earlier pass. */
export interface ObservedResource {
  resource: { status?: { atProvider?: Record<string, unknown>; conditions?: Array<{ type: string; status: string }> } } & Record<string, unknown>;
}

/** Who has to act on a refusal: it decides the Fatal's reason and whom the message addresses. */
export type FixedBy = 'tenant' | 'platform' | 'step-input';

/** A request the core refuses: names the field, the problem and the fix; the subclass says who fixes it. */
export abstract class Refusal extends Error {
  abstract readonly fixedBy: FixedBy;
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${field}: ${problem}. Fix: ${fix}`);
  }
}

/** The tenant's claim (spec, or what the tenant chose that AWS already holds). */
export class ClaimError extends Refusal {
  readonly fixedBy = 'tenant';
  override name = 'ClaimError';
}

/** The platform's EnvironmentConfig, or a platform setting that changed under existing buckets. */
export class PlatformError extends Refusal {
  readonly fixedBy = 'platform';
  override name = 'PlatformError';
}

/** The Composition step's input (not validated by the apiserver). */
export class StepInputError extends Refusal {
  readonly fixedBy = 'step-input';
  override name = 'StepInputError';
}

/**
 * Every mistake of one claim's spec at once: the tenant fixes them in one commit, not one per
 * reconcile. The message is one line per problem, each "<field>: <problem>. Fix: <fix>".
 */
export class ClaimErrors extends ClaimError {
  override name = 'ClaimErrors';
  constructor(readonly problems: readonly ClaimError[]) {
    const first = problems[0]!;
    super(first.field, first.problem, first.fix);
    this.message = problems.map((p) => p.message).join('\n');
  }
}

export interface RenderInput {
  identity: ClaimIdentity;
  spec: BucketSpec;
  environment: PlatformEnvironment;
  observed: Record<string, ObservedResource>;
}

export interface CompositeStatus {
  bucketName: string;
  region: string;
  encryption: string;
  objectLock: string;
  kmsKeyArn?: string;
  endpointId?: string;
  consumers?: Array<{ name: string; roleArn: string; accessPointAlias?: string }>;
  pendingValues?: string[];
  /** Requested, PendingConfirmation or Confirmed: AWS sends no alert to the address before it is confirmed. */
  alarmEmailSubscription?: string;
  /** The settings this XR's AWS names were made from: a render whose settings differ is refused (compose.ts). */
  managedNames?: ManagedNames;
}

/** The platform settings every generated AWS name of one XR derives from, as recorded in its status. */
export interface ManagedNames {
  installation: string;
  accountId: string;
  clusterName: string;
  bucketNamePrefix: string;
  nameSegment: string;
  rolePath: string;
  bucketName: string;
}

/** Whether the other API's request of this namespace and name exists (Crossplane looked it up). */
export type OtherRequest = 'present' | 'absent';

/** Objects the function asks Crossplane for (by name, or by labels): the adapter turns each into a requirement. */
export interface ObjectQuery {
  apiVersion: string;
  kind: string;
  name?: string;
  /** Omitted: cluster-scoped objects (or, with labels, any namespace). */
  namespace?: string;
  matchLabels?: Record<string, string>;
}

export interface RenderOutput {
  /** Keyed by composition resource name (stable across passes). */
  resources: Record<string, ManagedResource>;
  /**
   * Asked while a take-over from the other API waits on whether that API's request (and, for a
   * claim, its XR) still exists, keyed by requirement name: all empty means gone.
   */
  otherRequestQueries?: Record<string, ObjectQuery>;
  status: CompositeStatus;
  /** Informational messages (e.g. values still waiting on the provider). */
  notes: string[];
  /** What the tenant should know even though the claim renders (e.g. no consumer can reach the bucket). */
  warnings: Array<{ reason: string; message: string }>;
}
