// The pure core: (XR, platform environment, observed resources) -> desired resources + status.
// No I/O, no SDK types: the gRPC adapter and the tests call this the same way.
import { settingWarnings } from './warnings.js';
import { accessPointResourceName, accessPointResources } from './access-points.js';
import { observeBeforeManage, observeOnly, type Adoption } from './adoption.js';
import { alarmResources, changeAlertsFor, emailSubscriptionResources, emailSubscriptionState } from './alarms.js';
import { accessLoggingFor, auditResources } from './audit.js';
import { bucketResourcesFor } from './bucket.js';
import { bucketPolicyResourcesFor } from './bucket-policy.js';
import { ownedBuckets, type OwnedBuckets } from './buckets.js';
import { readIdentity, readSpec } from './claim.js';
import { buildContext, type RenderContext } from './context.js';
import { encryptionResourcesFor } from './encryption.js';
import { readEnvironment } from './environment.js';
import type { Json } from './fields.js';
import { identityResources } from './identity.js';
import { bucketName, installationOf, OWNER_NAME_TAG, OWNER_NAMESPACE_TAG, tenantBucketPrefix, tenantSegment } from './naming.js';
import { isObject } from './fields.js';
import { namespacedApiVersionOf } from './family.js';
import { lifecycleResourcesFor } from './lifecycle.js';
import { networkResources } from './network.js';
import { refuseForeignBuckets, type OwnedBucket } from './owned-bucket.js';
import { protectionResourcesFor } from './protection.js';
import { replicationResources } from './replication.js';
import { CLAIM_API, CLAIM_KIND, COMPOSITE_KIND, NAMESPACED_XR_API_VERSION, NAMESPACED_XR_KIND, PLATFORM_API_VERSION } from './api.js';
import {
  ClaimError,
  PlatformError,
  type BucketSpec,
  type ClaimIdentity,
  type CompositeStatus,
  type ManagedNames,
  type ManagedResource,
  type ObjectQuery,
  type ObservedResource,
  type OtherRequest,
  type PlatformEnvironment,
  type RenderOutput,
} from './types.js';

type Resources = Record<string, ManagedResource>;

/**
 * One AWS concern each, in the order resources are listed. `forEachBucket`: the parts every bucket
 * the claim owns gets (the source and the replica alike: a concern added here hardens both);
 * `forClaim`: the claim's own resources, listed after the source's part of the same concern.
 */
interface Concern {
  forEachBucket?: (ctx: RenderContext, b: OwnedBucket) => Resources;
  forClaim?: (ctx: RenderContext, buckets: OwnedBuckets) => Resources;
}

export const CONCERNS: readonly Concern[] = [
  { forEachBucket: bucketResourcesFor },
  { forEachBucket: encryptionResourcesFor },
  { forEachBucket: protectionResourcesFor },
  { forClaim: networkResources },
  { forEachBucket: bucketPolicyResourcesFor },
  { forClaim: identityResources },
  { forClaim: accessPointResources },
  { forEachBucket: lifecycleResourcesFor },
  { forEachBucket: accessLoggingFor, forClaim: (ctx, { source }) => auditResources(ctx, source) },
  { forClaim: alarmResources },
  // Watched in its own region like the source, whenever the claim is watched at all.
  { forEachBucket: changeAlertsFor, forClaim: emailSubscriptionResources },
];

/** What ties the owned buckets together, listed after all of them. */
const BETWEEN_BUCKETS: ReadonlyArray<(ctx: RenderContext, buckets: OwnedBuckets) => Resources> = [
  (ctx, { replication }) => replicationResources(ctx, replication),
];

/** Every resource of the claim: the source's parts with the claim's own, then each further owned bucket's parts. */
function composeResources(ctx: RenderContext): Resources {
  const buckets = ownedBuckets(ctx);
  const out: Resources = {};
  for (const c of CONCERNS) {
    if (c.forEachBucket) Object.assign(out, c.forEachBucket(ctx, buckets.source));
    if (c.forClaim) Object.assign(out, c.forClaim(ctx, buckets));
  }
  for (const b of buckets.replica ? [buckets.replica] : []) for (const c of CONCERNS) if (c.forEachBucket) Object.assign(out, c.forEachBucket(ctx, b));
  for (const tie of BETWEEN_BUCKETS) Object.assign(out, tie(ctx, buckets));
  return out;
}

export interface ComposeInput {
  composite: Json;
  environmentData: unknown;
  /**
   * readEnvironment(environmentData), when the caller has it already (the gRPC adapter keeps its
   * readings: src/environment-cache.ts). It must be exactly that reading; absent, the core reads the data.
   */
  environment?: PlatformEnvironment;
  observed: Record<string, ObservedResource>;
  /** Crossplane's answer to otherRequestQueries, once asked (undefined: not asked, or not answered). */
  otherRequest?: OtherRequest;
  /**
   * Crossplane's answer to the predecessor lookups (PREDECESSOR_PREFIX): the composed resources of
   * an earlier request of this namespace and name that still exist. Undefined: not asked or not answered.
   */
  predecessors?: Json[];
}

export function composeSecureBucket(input: ComposeInput): RenderOutput {
  const identity = readIdentity(input.composite);
  const recorded = recordedNames(input.composite);
  const environment =
    input.environment ??
    readEnvironment(input.environmentData, undefined, {
      namespace: identity.claimNamespace,
      // Rendered before (names recorded, or at least a bucket name): this tenant is the existing one.
      existing: recorded !== undefined || typeof statusOf(input.composite)['bucketName'] === 'string',
    });
  const spec = readSpec(input.composite, environment.region);
  if (spec.region !== environment.region) {
    // A gateway endpoint serves only its own region: a bucket elsewhere would be unreachable.
    throw new ClaimError(
      'spec.region',
      `${spec.region} is not served by this cluster's S3 endpoint (${environment.region})`,
      `remove spec.region or set it to ${environment.region}`,
    );
  }
  const names = managedNamesOf(identity, spec, environment);
  guardManagedNames(input.composite, recorded, names, identity, spec);
  const fixedPrefix = tenantBucketPrefix(identity, environment);
  if (spec.naming.strategy === 'Fixed' && !spec.naming.name.startsWith(fixedPrefix)) {
    // Crossplane adopts an existing bucket with the same external name: a fixed name outside the
    // tenant's registered prefix could take over another tenant's bucket, and one outside the
    // platform's prefix would not be reachable through the endpoint policy.
    throw new ClaimError(
      'spec.naming.name',
      `'${spec.naming.name}' does not start with '${fixedPrefix}'`,
      `start a fixed name with '${fixedPrefix}', or use strategy Generated`,
    );
  }
  const ctx = buildContext(identity, spec, environment, input.observed);
  if (input.otherRequest !== undefined) ctx.otherRequest = input.otherRequest;
  const resources = composeResources(ctx);
  refuseForeignBuckets(ctx, resources);
  // Kinds a predecessor's composed resources may delete from AWS: what we render with deletion Delete.
  const deletable = predecessorQueries(identity, resources);
  const adoption = observeBeforeManage(ctx, resources);
  const waitingFor = adoption.takingOver ? predecessorsLeft(input.composite, input.predecessors) : [];
  if (waitingFor === undefined || waitingFor.length > 0) holdTakeOver(resources, adoption);
  const out: RenderOutput = { resources, status: compositeStatus(ctx, adoption, names), notes: pendingNotes(ctx, adoption), warnings: claimWarnings(ctx) };
  if (waitingFor !== undefined && waitingFor.length > 0) {
    out.notes.push(
      `taking over what AWS holds for ${identity.claimNamespace}/${identity.claimName} only once the earlier request's composed resources are deleted (they would delete what this one manages): ${waitingFor.join(', ')}`,
    );
  }
  // Asked while waiting, and restated once answered: Crossplane stops calling when requirements repeat.
  if (adoption.awaitingOtherRequest || input.otherRequest !== undefined) out.otherRequestQueries = otherRequestOf(identity);
  if (adoption.takingOver || input.predecessors !== undefined) out.otherRequestQueries = { ...out.otherRequestQueries, ...deletable };
  return out;
}

/** Requirement names of the predecessor lookups: PREDECESSOR_PREFIX + kind + family. */
export const PREDECESSOR_PREFIX = 'predecessor-';

/**
 * A re-created or taken-over request renders the AWS names its predecessor did. Whatever that
 * predecessor composed with deletion Delete (roles, access points, lifecycle...) and that still
 * exists, even garbage collected in the background after its XR is gone, would delete the same AWS
 * resources under the taker. So the take-over asks for them, in both families, by owner labels.
 */
function predecessorQueries(identity: ClaimIdentity, resources: Record<string, ManagedResource>): Record<string, ObjectQuery> {
  const labels = { [OWNER_NAMESPACE_TAG]: identity.claimNamespace, [OWNER_NAME_TAG]: identity.claimName };
  const out: Record<string, ObjectQuery> = {};
  for (const resource of Object.values(resources)) {
    if (resource.spec['deletionPolicy'] !== 'Delete') continue;
    const kind = resource.kind.toLowerCase();
    out[`${PREDECESSOR_PREFIX}${kind}-cluster`] = { apiVersion: resource.apiVersion, kind: resource.kind, matchLabels: labels };
    // Only the twin's apiVersion: building the whole twin (namespacedResource) copied every spec.
    out[`${PREDECESSOR_PREFIX}${kind}-namespaced`] = {
      apiVersion: namespacedApiVersionOf(resource),
      kind: resource.kind,
      namespace: identity.claimNamespace,
      matchLabels: labels,
    };
  }
  return out;
}

/**
 * The predecessor's composed resources still there (undefined: not answered yet). Ours are not
 * counted: controlled by this XR (uid, or in a simulation without uids, its kind and name).
 */
function predecessorsLeft(composite: Json, found: Json[] | undefined): string[] | undefined {
  if (found === undefined) return undefined;
  const metadata = isObject(composite['metadata']) ? composite['metadata'] : {};
  const ours = (obj: Json): boolean => {
    const meta = isObject(obj['metadata']) ? obj['metadata'] : {};
    const refs = Array.isArray(meta['ownerReferences']) ? meta['ownerReferences'].filter(isObject) : [];
    const controller = refs.find((r) => r['controller'] === true);
    if (controller === undefined) return false;
    if (typeof metadata['uid'] === 'string' && typeof controller['uid'] === 'string') return controller['uid'] === metadata['uid'];
    return controller['kind'] === composite['kind'] && controller['name'] === metadata['name'];
  };
  return found
    .filter((o) => !ours(o))
    .map((o) => {
      const meta = isObject(o['metadata']) ? o['metadata'] : {};
      return `${String(o['kind'])} ${String(meta['name'] ?? '?')}${meta['deletionTimestamp'] !== undefined ? ' (deleting)' : ''}`;
    });
}

/** Until the predecessor is gone, everything that may be taken over stays observed, nothing else renders. */
function holdTakeOver(resources: Record<string, ManagedResource>, adoption: Adoption): void {
  for (const [name, resource] of Object.entries(resources)) {
    if (adoption.held.includes(name) && !adoption.managed.includes(name)) {
      observeOnly(resource);
      if (!adoption.observing.includes(name)) adoption.observing.push(name);
    } else if (!adoption.managed.includes(name)) delete resources[name];
  }
}

function statusOf(composite: Json): Json {
  return isObject(composite['status']) ? composite['status'] : {};
}

/** The names an XR recorded on an earlier render, if it did. */
function recordedNames(composite: Json): Partial<ManagedNames> | undefined {
  const names = statusOf(composite)['managedNames'];
  return isObject(names) ? (names as Partial<ManagedNames>) : undefined;
}

function managedNamesOf(identity: ClaimIdentity, spec: BucketSpec, env: PlatformEnvironment): ManagedNames {
  return {
    installation: installationOf(env),
    accountId: env.accountId,
    clusterName: env.clusterName,
    bucketNamePrefix: env.bucketNamePrefix,
    nameSegment: tenantSegment(identity, env),
    rolePath: env.identity.rolePath,
    bucketName: bucketName(identity, spec, env),
  };
}

/**
 * Every AWS name derives from these settings: a render whose settings differ from those the XR's
 * names were made with would re-point roles, access points, lifecycle, logging and alarms at a new,
 * empty bucket and delete the old ones. Refused, naming the setting that changed.
 */
function guardManagedNames(composite: Json, recorded: Partial<ManagedNames> | undefined, now: ManagedNames, identity: ClaimIdentity, spec: BucketSpec): void {
  const ns = identity.claimNamespace;
  const where = `${ns}/${identity.claimName}`;
  if (recorded === undefined) {
    // Rendered before the names were recorded: the bucket name alone still says whether they moved.
    const before = statusOf(composite)['bucketName'];
    if (spec.naming.strategy === 'Generated' && typeof before === 'string' && before !== now.bucketName) {
      throw new PlatformError(
        'EnvironmentConfig data',
        `${where} manages s3://${before}, but the platform's settings now generate s3://${now.bucketName}: accountId, installationId, bucketNamePrefix or tenants.${ns}.nameSegment changed, and every name would move away from the data; nothing was changed`,
        'restore the setting that changed; if a tenant added since collides with this one, give the newly added tenant its own nameSegment',
      );
    }
    return;
  }
  const settings: Array<[keyof ManagedNames, string]> = [
    ['accountId', 'EnvironmentConfig data.accountId'],
    ['clusterName', 'EnvironmentConfig data.clusterName'],
    ['installation', 'EnvironmentConfig data.installationId'],
    ['bucketNamePrefix', 'EnvironmentConfig data.bucketNamePrefix'],
    ['nameSegment', `EnvironmentConfig data.tenants.${ns}.nameSegment`],
    ['rolePath', 'EnvironmentConfig data.identity.rolePath'],
  ];
  for (const [key, field] of settings) {
    const before = recorded[key];
    if (before === undefined || before === now[key]) continue;
    // The installation that predates installationId is known by its clusterName: restored by removing the id.
    const restore = key === 'installation' && before === recorded.clusterName ? 'remove data.installationId' : `set it back to '${before}'`;
    throw new PlatformError(
      field,
      `is '${now[key]}', but ${where} manages AWS resources named with '${before}' (s3://${recorded.bucketName ?? '?'}): its bucket, roles and access points would move to new names, away from the data, and the old ones be deleted; nothing was changed`,
      key === 'nameSegment'
        ? `${restore}; if a newly added tenant's segment collides with '${before}', give that new tenant its own nameSegment, never this existing one`
        : `${restore}; moving existing buckets to new names is a migration, not a settings change`,
    );
  }
}

/**
 * What a take-over from the other API must find gone: its request of this namespace and name; for a
 * claim also its cluster-scoped XR, which Crossplane may still be deleting (with whatever it composes
 * that is not Orphan) after the claim itself is gone.
 */
function otherRequestOf(identity: ClaimIdentity): Record<string, ObjectQuery> {
  const { claimName: name, claimNamespace: namespace } = identity;
  if (identity.api === CLAIM_API) return { [OTHER_REQUEST]: { apiVersion: NAMESPACED_XR_API_VERSION, kind: NAMESPACED_XR_KIND, name, namespace } };
  return {
    [OTHER_REQUEST]: { apiVersion: PLATFORM_API_VERSION, kind: CLAIM_KIND, name, namespace },
    [OTHER_REQUEST_COMPOSITE]: {
      apiVersion: PLATFORM_API_VERSION,
      kind: COMPOSITE_KIND,
      matchLabels: { 'crossplane.io/claim-name': name, 'crossplane.io/claim-namespace': namespace },
    },
  };
}

/** Requirement names of those lookups. */
export const OTHER_REQUEST = 'other-api-request';
export const OTHER_REQUEST_COMPOSITE = 'other-api-composite';

function claimWarnings(ctx: RenderContext): RenderOutput['warnings'] {
  // Contradictory settings (warnings.ts) come after the consumers' warning.
  if (ctx.consumers.length > 0) return settingWarnings(ctx);
  return [
    {
      reason: 'NoConsumers',
      message: `spec.consumers is empty: no workload can reach s3://${ctx.bucketName}, only the platform's break-glass principals (and the provider role that manages it). Fix: list the workloads that use the bucket in spec.consumers`,
    },
    ...settingWarnings(ctx),
  ];
}

/** Until AWS's report on what may already exist is in, nothing else is final. */
const OBSERVED_STATE = 'observedState';

function pending(ctx: RenderContext, adoption: Adoption): string[] {
  const out: string[] = [];
  if (adoption.observing.length > 0) out.push(OBSERVED_STATE);
  if (ctx.keyArn === undefined) out.push('kmsKeyArn');
  if (ctx.endpointId === undefined) out.push('endpointId');
  return out;
}

function pendingNotes(ctx: RenderContext, adoption: Adoption): string[] {
  const notes = pending(ctx, adoption).map((v) =>
    v === OBSERVED_STATE
      ? `observing what AWS already holds (${adoption.observing.join(', ')}) before managing it: taken over once the provider reports it absent or this namespace's, refused if it is another's or stronger than the claim`
      : `waiting for the provider to report ${v}; the bucket policy and consumer roles tighten once it is known`,
  );
  const subscription = emailSubscriptionState(ctx);
  if (subscription !== undefined && subscription !== 'Confirmed') {
    // AWS delivers nothing to an e-mail address until its owner clicks the link AWS sent it.
    notes.push(
      `alarm e-mail subscription for ${ctx.spec.alarms?.email ?? ''} is ${subscription}: no alert arrives until its owner confirms the e-mail from AWS Notifications`,
    );
  }
  return notes;
}

function compositeStatus(ctx: RenderContext, adoption: Adoption, names: ManagedNames): CompositeStatus {
  const lock = ctx.spec.objectLock;
  const status: CompositeStatus = {
    bucketName: ctx.bucketName,
    region: ctx.spec.region,
    encryption: 'aws:kms+bucketKey',
    objectLock: lock ? `${lock.mode}/${lock.days !== undefined ? `${lock.days}d` : `${lock.years}y`}` : 'Off',
    consumers: ctx.consumers.map((c) => {
      const entry: { name: string; roleArn: string; accessPointAlias?: string } = { name: c.name, roleArn: c.roleArn };
      const alias = ctx.observed[accessPointResourceName(c)]?.resource.status?.atProvider?.['alias'];
      if (typeof alias === 'string') entry.accessPointAlias = alias;
      return entry;
    }),
    pendingValues: pending(ctx, adoption),
    managedNames: names,
  };
  if (ctx.keyArn !== undefined) status.kmsKeyArn = ctx.keyArn;
  if (ctx.endpointId !== undefined) status.endpointId = ctx.endpointId;
  const subscription = emailSubscriptionState(ctx);
  if (subscription !== undefined) status.alarmEmailSubscription = subscription;
  return status;
}
