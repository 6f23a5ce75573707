// Observe before you manage. The bucket, its key and its hardening outlive a claim (Orphan), and a
// Fixed name may name a bucket that already exists: Crossplane takes over whatever AWS holds under
// an external name. So every resource that may already exist is first composed Observe-only; the
// function manages it only once the provider reported that it does not exist, or that it carries
// this namespace's ownership tag (resources without tags follow their bucket). The guards in
// object-lock.ts and encryption.ts read the same reports and refuse anything weaker than AWS holds.
import type { RenderContext } from './context.js';
import { isObject, shown } from './fields.js';
import { CLAIM_API, TAKE_OVER_ANNOTATION } from './api.js';
import {
  CLUSTER_TAG,
  clusterArn,
  INSTALLATION_REGION_TAG,
  INSTALLATION_TAG,
  installationOf,
  OWNER_API_TAG,
  OWNER_NAME_TAG,
  OWNER_NAMESPACE_TAG,
} from './naming.js';
import { ClaimError, PlatformError, type ManagedResource, type ObservedResource } from './types.js';

export const OBSERVE_ONLY = ['Observe'];
export const EXTERNAL_NAME = 'crossplane.io/external-name';
/** crossplane-runtime's condition message for an Observe-only resource AWS does not hold. */
const NOT_EXIST = /external resource does not exist/;

export type Observation = { state: 'unreported' } | { state: 'absent' } | { state: 'present'; atProvider: Record<string, unknown> };

export function externalNameOf(resource: unknown): string | undefined {
  const metadata = isObject(resource) && isObject(resource['metadata']) ? resource['metadata'] : {};
  const annotations = isObject(metadata['annotations']) ? metadata['annotations'] : {};
  const name = annotations[EXTERNAL_NAME];
  return typeof name === 'string' && name !== '' ? name : undefined;
}

function forProviderOf(resource: ManagedResource): Record<string, unknown> {
  const forProvider = resource.spec['forProvider'];
  return isObject(forProvider) ? forProvider : {};
}

function managementPolicies(resource: unknown): unknown {
  return isObject(resource) && isObject(resource['spec']) ? resource['spec']['managementPolicies'] : undefined;
}

function isObserveOnly(policies: unknown): boolean {
  return Array.isArray(policies) && policies.length === 1 && policies[0] === 'Observe';
}

/**
 * The composed resource exists and the function already manages it (taken over on an earlier
 * pass), under the external name we desire now: a resource pointed at another AWS name is new and
 * observed again, never trusted on what the old one held.
 */
export function isManaged(observed: Record<string, ObservedResource>, name: string, externalName?: string): boolean {
  const resource = observed[name]?.resource;
  if (resource === undefined || isObserveOnly(managementPolicies(resource))) return false;
  return externalName === undefined || externalNameOf(resource) === undefined || externalNameOf(resource) === externalName;
}

/**
 * What the provider reported for composed resource `name`, counted only when it looked under the
 * external name we desire now: a report about another name (or none) says nothing about this one.
 */
export function observation(observed: Record<string, ObservedResource>, name: string, externalName: string | undefined): Observation {
  const resource = observed[name]?.resource;
  if (resource === undefined || externalNameOf(resource) !== externalName) return { state: 'unreported' };
  const reported: unknown = resource.status?.conditions;
  const conditions = Array.isArray(reported) ? reported.filter(isObject) : [];
  const synced = conditions.find((c) => c['type'] === 'Synced') as { status: string; message?: string } | undefined;
  if (synced?.status === 'False' && NOT_EXIST.test(synced.message ?? '')) return { state: 'absent' };
  const atProvider = resource.status?.atProvider;
  if (synced?.status === 'True' && isObject(atProvider) && Object.keys(atProvider).length > 0) return { state: 'present', atProvider };
  return { state: 'unreported' };
}

/** What AWS holds for `name`: reported by the provider, whether we observe or manage it. */
export function heldInAws(ctx: RenderContext, name: string, externalName: string | undefined): Record<string, unknown> | undefined {
  if (isManaged(ctx.observed, name, externalName)) {
    // Whatever the wire brought: only a mapping is a report (fuzzing sends atProvider: null).
    const atProvider = ctx.observed[name]?.resource.status?.atProvider;
    return isObject(atProvider) ? atProvider : undefined;
  }
  const seen = observation(ctx.observed, name, externalName);
  return seen.state === 'present' ? seen.atProvider : undefined;
}

function tagsOf(atProvider: Record<string, unknown>): Record<string, unknown> | undefined {
  const tags = atProvider['tags'] ?? atProvider['tagsAll'];
  return isObject(tags) ? tags : undefined;
}

/**
 * Kinds that carry the platform's ownership tags; the rest (a bucket's configurations) follow their
 * bucket. Roles are deleted with their request, yet AWS holds them under a name that does not derive
 * from the bucket (cluster, namespace, claim, consumer): any installation of the account may render
 * it (a same-named cluster in another region does), so they are observed first and taken over only on
 * their tags, like buckets. Names derived from the bucket's (KMS alias, alarms, EventBridge rules,
 * bucket configurations) are composed only once the bucket is proven this request's; bucket names
 * are global, so no other installation renders them without being refused on the bucket first.
 */
const TAGGED_KINDS = new Set(['Bucket', 'Key', 'Role']);
/** Tagged kinds deleted with their request that AWS holds under a name the render chooses. */
const NAME_BOUND_KINDS = new Set(['Role']);

/**
 * The installation that tagged a resource: the installation tag, else (tagged before it existed) the
 * cluster tag, which then named the installation; undefined for a resource the platform tagged by hand.
 */
function installationTagged(tags: Record<string, unknown> | undefined): unknown {
  return tags?.[INSTALLATION_TAG] ?? tags?.[CLUSTER_TAG];
}

/** How an error names an installation: its id (or cluster name) and, when known, its home region. */
function installationShown(installation: unknown, region: unknown): string {
  return region === undefined ? shown(installation) : `${shown(installation)} in ${shown(region)}`;
}

/**
 * What AWS holds, tagged before the region tag existed, says it is another installation's anyway: a
 * role whose trust names another cluster's OIDC provider or EKS cluster (a same-named cluster of
 * another region), or a resource AWS reports in another region than this render puts it.
 */
function heldElsewhere(ctx: RenderContext, resource: ManagedResource, atProvider: Record<string, unknown>): boolean {
  const region = atProvider['region'];
  const desired = forProviderOf(resource)['region'];
  if (typeof region === 'string' && typeof desired === 'string' && region !== desired) return true;
  if (resource.kind !== 'Role') return false;
  const trust = atProvider['assumeRolePolicy'];
  const text = typeof trust === 'string' ? trust : JSON.stringify(trust ?? '');
  // A service role (replication): no cluster in its trust, nothing to tell.
  if (!/:oidc-provider\/|:eks:/.test(text)) return false;
  const { env } = ctx;
  // Quoted: cluster/staging is not cluster/staging-b.
  const ours = [clusterArn(env)];
  if (env.identity.oidcIssuer !== undefined) ours.push(`arn:${env.partition}:iam::${env.accountId}:oidc-provider/${env.identity.oidcIssuer}`);
  return !ours.some((arn) => text.includes(`${arn}"`) || text.includes(`${arn}\\"`));
}

/**
 * Another installation of this account (a second cluster, or a same-named cluster of another
 * region) made it: its namespace tags say nothing about ours. `atProvider` is what AWS reports when
 * the resource is not ours yet: then a resource tagged before the region tag existed is judged by
 * what it holds too.
 */
function otherInstallation(
  ctx: RenderContext,
  tags: Record<string, unknown> | undefined,
  held?: { resource: ManagedResource; atProvider: Record<string, unknown> },
): boolean {
  const installation = installationTagged(tags);
  if (installation === undefined) return false;
  if (installation !== installationOf(ctx.env)) return true;
  const region = tags?.[INSTALLATION_REGION_TAG];
  if (region !== undefined) return region !== ctx.env.region;
  return held !== undefined && heldElsewhere(ctx, held.resource, held.atProvider);
}

/**
 * This installation, this request's namespace, and its name or none (a resource the platform
 * handed over by namespace).
 */
function taggedForThisRequest(
  ctx: RenderContext,
  tags: Record<string, unknown> | undefined,
  held?: { resource: ManagedResource; atProvider: Record<string, unknown> },
): boolean {
  const claim = tags?.[OWNER_NAME_TAG];
  return (
    !otherInstallation(ctx, tags, held) &&
    tags?.[OWNER_NAMESPACE_TAG] === ctx.identity.claimNamespace &&
    (claim === undefined || claim === ctx.identity.claimName)
  );
}

/** Kinds AWS holds under a name a render chooses but that carry no tags: adopted only when they serve this request's bucket. */
const BUCKET_BOUND_KINDS = new Set(['AccessPoint']);

/**
 * An access point is adopted only when it is on this request's bucket (which adoption already
 * proved this installation's and request's): an equal name from another installation or bucket
 * prefix is refused, never re-pointed at our bucket and deleted with our request.
 */
function guardBucketBound(ctx: RenderContext, name: string, resource: ManagedResource, atProvider: Record<string, unknown>): Cleared {
  const bucket = atProvider['bucket'];
  if (bucket === ctx.bucketName) return 'cleared';
  // Who fixes it decides the type: without an installation id it is the platform's, else the tenant's (ask the platform).
  const Refused = ctx.env.installationId === undefined ? PlatformError : ClaimError;
  throw new Refused(
    ctx.env.installationId === undefined ? 'EnvironmentConfig data.installationId' : 'spec.consumers',
    `${heldName(name, resource)} already exists in AWS on bucket ${shown(bucket)}, not on s3://${ctx.bucketName}: another installation or request of this account uses the name; nothing was changed`,
    ctx.env.installationId === undefined
      ? 'the platform team gives each installation (cluster) of this account its own data.installationId (docs/environment.md); only one may leave it unset'
      : `ask the platform team: AWS holds an access point under this consumer's generated name that is not ${ctx.identity.claimNamespace}'s`,
  );
}

/** How an error names the resource AWS holds. */
function heldName(name: string, resource: ManagedResource): string {
  return resource.kind === 'Bucket' ? `s3://${externalNameOf(resource)}` : `the ${resource.kind} ${externalNameOf(resource)} (${name})`;
}

/**
 * Refuses a resource AWS holds that is not this claim's: another namespace's, nobody's, or another
 * claim's of the same namespace (two live claims on one bucket would fight over its policy and
 * lifecycle). A resource tagged with the namespace alone (handed over by the platform) is adopted.
 */
function guardOwnership(ctx: RenderContext, name: string, resource: ManagedResource, atProvider: Record<string, unknown>): Cleared {
  if (BUCKET_BOUND_KINDS.has(resource.kind)) return guardBucketBound(ctx, name, resource, atProvider);
  if (!TAGGED_KINDS.has(resource.kind)) return 'cleared';
  const tags = tagsOf(atProvider);
  const owner = tags?.[OWNER_NAMESPACE_TAG];
  const claim = tags?.[OWNER_NAME_TAG];
  const what = heldName(name, resource);
  const held = { resource, atProvider };
  if (taggedForThisRequest(ctx, tags, held)) return guardApi(ctx, what, tags);
  if (otherInstallation(ctx, tags, held)) {
    // Same account, another cluster (or installation, or a same-named cluster of another region): its names may equal ours when neither set an id.
    const region = tags?.[INSTALLATION_REGION_TAG] ?? (typeof atProvider['region'] === 'string' ? atProvider['region'] : undefined) ?? 'another region';
    const Refused = ctx.spec.naming.strategy === 'Fixed' ? ClaimError : PlatformError;
    throw new Refused(
      ctx.spec.naming.strategy === 'Fixed' ? 'spec.naming.name' : 'EnvironmentConfig data.installationId',
      `${what} already exists in AWS and belongs to installation ${installationShown(installationTagged(tags), region)} (namespace ${shown(owner)}), not to this one (${installationShown(installationOf(ctx.env), ctx.env.region)}): the platform never takes over another installation's resources; nothing was changed`,
      ctx.spec.naming.strategy === 'Fixed'
        ? 'choose another fixed name, or use strategy Generated'
        : 'the platform team gives each installation (cluster) of this account its own data.installationId (docs/environment.md); only one may leave it unset',
    );
  }
  const whose =
    owner === ctx.identity.claimNamespace
      ? `belongs to claim ${shown(claim)} of this namespace (delete or rename that claim first; a re-created claim takes over under its own name)`
      : typeof owner === 'string'
        ? `belongs to namespace ${owner}`
        : 'carries no platform ownership tag';
  const fixed = ctx.spec.naming.strategy === 'Fixed';
  throw new ClaimError(
    fixed ? 'spec.naming.name' : 'spec.naming',
    `${what} already exists in AWS and ${whose}: the platform never takes over what another namespace or nobody it knows owns; nothing was changed`,
    fixed
      ? 'choose another fixed name, or use strategy Generated'
      : `ask the platform team: AWS holds a resource under this claim's generated name that is not ${ctx.identity.claimNamespace}'s`,
  );
}

/**
 * A claim and a v2 XR of one namespace and name render the same AWS names: while both live, both
 * would manage one bucket and undo each other's policy and lifecycle. So what one API's request
 * left is taken over by the other only when the taker says so (the migration, after the old
 * request is gone). Tagged before v2, nothing names an API: only claims existed then.
 */
function guardApi(ctx: RenderContext, what: string, tags: Record<string, unknown> | undefined): Cleared {
  const held = typeof tags?.[OWNER_API_TAG] === 'string' ? (tags[OWNER_API_TAG] as string) : CLAIM_API;
  if (held === ctx.identity.api) return 'cleared';
  const { claimNamespace: ns, claimName: nm } = ctx.identity;
  if (held === ctx.identity.takeOverFrom) {
    if (ctx.env.network.endpoint.mode === 'Dedicated') {
      // The claim's gateway endpoint has no name to adopt it by: the XR would create a second one
      // (a route table takes one S3 gateway endpoint) and pin the bucket policy to it, locking out
      // every consumer still routed through the first.
      throw new ClaimError(
        `metadata.annotations[${TAKE_OVER_ANNOTATION}]`,
        `${what} cannot move to ${ctx.identity.api} on a cluster with a dedicated S3 endpoint per bucket: the new request would create a second endpoint and deny the consumers routed through the first; nothing was changed`,
        `keep ${held} ${ns}/${nm} on this cluster for now (docs/migrate-to-v2.md, "Dedicated endpoints"), and remove the annotation`,
      );
    }
    // The annotation says the other request is gone; Crossplane's answer says whether it is.
    if (ctx.otherRequest === undefined) return 'lookup';
    if (ctx.otherRequest === 'absent') return 'cleared';
    throw new ClaimError(
      `metadata.annotations[${TAKE_OVER_ANNOTATION}]`,
      `${what} was requested through ${held} ${ns}/${nm}, which still exists: both would manage it; nothing was changed`,
      `set every resource ${held} ${ns}/${nm} composed to Orphan and delete it first (docs/migrate-to-v2.md steps 3-5)`,
    );
  }
  throw new ClaimError(
    `metadata.annotations[${TAKE_OVER_ANNOTATION}]`,
    `${what} was requested through ${held} ${ns}/${nm}, and this is ${ctx.identity.api} ${ns}/${nm}: while both exist both would manage it; nothing was changed`,
    `if ${held} ${ns}/${nm} is deleted and its resources were left Orphan (docs/migrate-to-v2.md), annotate this request ${TAKE_OVER_ANNOTATION}=${held}; otherwise delete this one`,
  );
}

/** A guard's verdict: take it over, or wait for Crossplane's answer on the other API's request. */
type Cleared = 'cleared' | 'lookup';

/**
 * Two requests that both took over one bucket (both saw it absent at once) overwrite each other's
 * tags: a managed bucket or key whose tags in AWS name another request is refused on every pass,
 * and one still tagged by the other API is kept only while that API's request is gone.
 */
function guardManaged(ctx: RenderContext, name: string, resource: ManagedResource): Cleared {
  if (!TAGGED_KINDS.has(resource.kind)) return 'cleared';
  const atProvider = heldInAws(ctx, name, externalNameOf(resource));
  const tags = atProvider === undefined ? undefined : tagsOf(atProvider);
  // Not tagged yet (the provider writes ours on its next reconcile).
  if (tags?.[OWNER_NAMESPACE_TAG] === undefined) return 'cleared';
  const what = heldName(name, resource);
  // The same rule as when it was taken over.
  if (taggedForThisRequest(ctx, tags)) return guardApi(ctx, what, tags);
  throw new ClaimError(
    ctx.spec.naming.strategy === 'Fixed' ? 'spec.naming.name' : 'spec.naming',
    `${what} carries the tags of ${shown(tags[OWNER_API_TAG] ?? CLAIM_API)} ${shown(tags[OWNER_NAMESPACE_TAG])}/${shown(tags[OWNER_NAME_TAG])}: another request manages it too, and the two overwrite each other`,
    `delete one of the two requests (set its composed resources to Orphan first), then reconcile the other`,
  );
}

/** An observer: never writes, and never deletes what it looks at when its request goes (a role held by another installation). */
export function observeOnly(resource: ManagedResource): void {
  resource.spec['managementPolicies'] = OBSERVE_ONLY;
  resource.spec['deletionPolicy'] = 'Orphan';
}

/**
 * A Pod Identity association binding a role still being observed waits for the role's verdict: it
 * would bind this cluster's ServiceAccount to another installation's role.
 */
function dropDependents(resources: Record<string, ManagedResource>, observing: string[]): void {
  const roles = observing.flatMap((name) => {
    const r = resources[name];
    const external = r?.kind === 'Role' ? externalNameOf(r) : undefined;
    return external === undefined ? [] : [`/${external}`];
  });
  for (const [name, r] of Object.entries(resources)) {
    const roleArn = forProviderOf(r)['roleArn'];
    if (r.kind === 'PodIdentityAssociation' && typeof roleArn === 'string' && roles.some((n) => roleArn.endsWith(n))) delete resources[name];
  }
}

export interface Adoption {
  /** Composed resources not yet taken over: still Observe-only. */
  observing: string[];
  /** A take-over from the other API waits on Crossplane's answer: does that API's request still exist? */
  awaitingOtherRequest: boolean;
  /** True once the bucket itself is managed: from then on everything else is rendered too. */
  bucketManaged: boolean;
  /** AWS holds, unmanaged by us yet, something an earlier request of this namespace and name left: a take-over. */
  takingOver: boolean;
  /** Composed resources that outlive a request or may be held in AWS (observed before managed). */
  held: string[];
  /** Of those, the ones already managed. */
  managed: string[];
}

/**
 * Applies observe-before-manage to the rendered resources: each one that outlives its claim
 * (deletionPolicy Orphan) stays Observe-only until AWS's report clears it. Until the bucket is taken
 * over, only those observers are composed: no policy, lifecycle or role touches a bucket whose owner
 * is not proven yet. All of them are taken over in the same pass.
 */
export function observeBeforeManage(ctx: RenderContext, resources: Record<string, ManagedResource>): Adoption {
  // Access points and roles are deleted with their request, yet AWS may hold one under our name: observed first too.
  const adoptable = Object.entries(resources).filter(
    ([, r]) => r.spec['deletionPolicy'] === 'Orphan' || BUCKET_BOUND_KINDS.has(r.kind) || NAME_BOUND_KINDS.has(r.kind),
  );
  const observing: string[] = [];
  const managedNow: string[] = [];
  let awaitingOtherRequest = false;
  let takingOver = false;
  for (const [name, resource] of adoptable) {
    if (isManaged(ctx.observed, name, externalNameOf(resource))) {
      managedNow.push(name);
      if (guardManaged(ctx, name, resource) === 'lookup') awaitingOtherRequest = true;
      continue;
    }
    const seen = observation(ctx.observed, name, externalNameOf(resource));
    const cleared = seen.state === 'present' ? guardOwnership(ctx, name, resource, seen.atProvider) : 'cleared';
    if (seen.state === 'present') takingOver = true;
    if (cleared === 'lookup') awaitingOtherRequest = true;
    if (seen.state === 'unreported' || cleared === 'lookup') observing.push(name);
  }
  const held = adoptable.map(([name]) => name);
  const bucketManaged = isManaged(ctx.observed, 'bucket', ctx.bucketName);
  // Once the bucket is ours, a newcomer (an access point) is no take-over of a predecessor's bucket.
  const base = { bucketManaged, awaitingOtherRequest, takingOver: takingOver && !bucketManaged, held, managed: managedNow };
  if (observing.length === 0) return { observing, ...base };
  const heldSet = new Set(held);
  // Once the bucket is managed only the newcomers wait (all taken over in one pass); what is already managed stays managed.
  const waiting = bucketManaged ? new Set(held.filter((name) => !managedNow.includes(name))) : heldSet;
  for (const [name, resource] of Object.entries(resources)) {
    if (waiting.has(name)) observeOnly(resource);
    else if (!bucketManaged && !heldSet.has(name)) delete resources[name];
  }
  if (bucketManaged) dropDependents(resources, observing);
  return { observing: bucketManaged ? observing : held, ...base };
}
