// The pure core: (XR, platform environment, observed resources) -> desired resources + status.
// No I/O, no SDK types: the gRPC adapter and the tests call this the same way.
import { accessPointResourceName, accessPointResources } from './access-points.js';
import { observeBeforeManage, type Adoption } from './adoption.js';
import { alarmResources, emailSubscriptionState } from './alarms.js';
import { auditResources } from './audit.js';
import { bucketResources } from './bucket.js';
import { bucketPolicyResources } from './bucket-policy.js';
import { readIdentity, readSpec } from './claim.js';
import { buildContext, type RenderContext } from './context.js';
import { encryptionResources } from './encryption.js';
import { readEnvironment } from './environment.js';
import type { Json } from './fields.js';
import { identityResources } from './identity.js';
import { tenantBucketPrefix } from './naming.js';
import { lifecycleResources } from './lifecycle.js';
import { networkResources } from './network.js';
import { refuseForeignBuckets } from './owned-bucket.js';
import { protectionResources } from './protection.js';
import { replicationResources } from './replication.js';
import { CLAIM_API, CLAIM_KIND, COMPOSITE_KIND, NAMESPACED_XR_API_VERSION, NAMESPACED_XR_KIND, PLATFORM_API_VERSION } from './api.js';
import { ClaimError, type ClaimIdentity, type CompositeStatus, type ManagedResource, type ObjectQuery, type ObservedResource, type OtherRequest, type RenderOutput } from './types.js';

/** One AWS concern each; the order is the order resources are listed in. */
const CONCERNS: Array<(ctx: RenderContext) => Record<string, ManagedResource>> = [
  bucketResources,
  encryptionResources,
  protectionResources,
  networkResources,
  bucketPolicyResources,
  identityResources,
  accessPointResources,
  lifecycleResources,
  auditResources,
  alarmResources,
  replicationResources,
];

export interface ComposeInput {
  composite: Json;
  environmentData: unknown;
  observed: Record<string, ObservedResource>;
  /** Crossplane's answer to otherRequestQueries, once asked (undefined: not asked, or not answered). */
  otherRequest?: OtherRequest;
}

export function composeSecureBucket(input: ComposeInput): RenderOutput {
  const environment = readEnvironment(input.environmentData);
  const identity = readIdentity(input.composite);
  const spec = readSpec(input.composite, environment.region);
  if (spec.region !== environment.region) {
    // A gateway endpoint serves only its own region: a bucket elsewhere would be unreachable.
    throw new ClaimError(
      'spec.region',
      `${spec.region} is not served by this cluster's S3 endpoint (${environment.region})`,
      `remove spec.region or set it to ${environment.region}`,
    );
  }
  const fixedPrefix = tenantBucketPrefix(identity, environment);
  if (spec.naming.strategy === 'Fixed' && !spec.naming.name.startsWith(fixedPrefix)) {
    // Crossplane adopts an existing bucket with the same external name: a fixed name outside the
    // tenant's registered prefix could take over another tenant's bucket, and one outside the
    // platform's prefix would not be reachable through the endpoint policy.
    throw new ClaimError('spec.naming.name', `'${spec.naming.name}' does not start with '${fixedPrefix}'`, `start a fixed name with '${fixedPrefix}', or use strategy Generated`);
  }
  const ctx = buildContext(identity, spec, environment, input.observed);
  if (input.otherRequest !== undefined) ctx.otherRequest = input.otherRequest;
  const resources: Record<string, ManagedResource> = {};
  for (const concern of CONCERNS) Object.assign(resources, concern(ctx));
  refuseForeignBuckets(ctx, resources);
  const adoption = observeBeforeManage(ctx, resources);
  const out: RenderOutput = { resources, status: compositeStatus(ctx, adoption), notes: pendingNotes(ctx, adoption), warnings: claimWarnings(ctx) };
  // Asked while waiting, and restated once answered: Crossplane stops calling when requirements repeat.
  if (adoption.awaitingOtherRequest || input.otherRequest !== undefined) out.otherRequestQueries = otherRequestOf(identity);
  return out;
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
    [OTHER_REQUEST_COMPOSITE]: { apiVersion: PLATFORM_API_VERSION, kind: COMPOSITE_KIND, matchLabels: { 'crossplane.io/claim-name': name, 'crossplane.io/claim-namespace': namespace } },
  };
}

/** Requirement names of those lookups. */
export const OTHER_REQUEST = 'other-api-request';
export const OTHER_REQUEST_COMPOSITE = 'other-api-composite';

function claimWarnings(ctx: RenderContext): RenderOutput['warnings'] {
  if (ctx.consumers.length > 0) return [];
  return [
    {
      reason: 'NoConsumers',
      message: `spec.consumers is empty: no workload can reach s3://${ctx.bucketName}, only the platform's break-glass principals (and the provider role that manages it). Fix: list the workloads that use the bucket in spec.consumers`,
    },
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
    notes.push(`alarm e-mail subscription for ${ctx.spec.alarms?.email ?? ''} is ${subscription}: no alert arrives until its owner confirms the e-mail from AWS Notifications`);
  }
  return notes;
}

function compositeStatus(ctx: RenderContext, adoption: Adoption): CompositeStatus {
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
  };
  if (ctx.keyArn !== undefined) status.kmsKeyArn = ctx.keyArn;
  if (ctx.endpointId !== undefined) status.endpointId = ctx.endpointId;
  const subscription = emailSubscriptionState(ctx);
  if (subscription !== undefined) status.alarmEmailSubscription = subscription;
  return status;
}
