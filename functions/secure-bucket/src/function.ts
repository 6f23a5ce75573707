// The RunFunction adapter: protobuf request in, protobuf response out. It takes the platform's
// EnvironmentConfig from Crossplane (declared by the Composition step, or asked for), hands plain
// objects to the pure core, and turns every error into a Fatal result. It never throws.
import {
  Requirements,
  type ResourceSelector,
  Severity,
  Status,
  Target,
  type RunFunctionRequest,
  type RunFunctionResponse,
  to,
} from '@crossplane-org/function-sdk-typescript';
import {
  composeSecureBucket,
  Refusal,
  StepInputError,
  type FixedBy,
  OTHER_REQUEST,
  OTHER_REQUEST_COMPOSITE,
  PREDECESSOR_PREFIX,
  type OtherRequest,
  DEFAULT_ENVIRONMENT_CONFIG,
  ENVIRONMENT_CONFIG_API_VERSION,
  inFamilyOf,
  isObject,
  type Json,
  type ObservedResource,
} from './core/index.js';
import { knownEnvironment } from './environment-cache.js';

/**
 * The key the Composition step declares the EnvironmentConfig under (requirements.requiredResources
 * .requirementName): Crossplane fetches it before the first call, so one call per reconcile.
 */
export const DECLARED_ENVIRONMENT_REQUIREMENT = 'declared-platform-environment';
/** The key the function asks under when the step declared nothing (a second call follows). */
export const ENVIRONMENT_REQUIREMENT = 'platform-environment';
export { DEFAULT_ENVIRONMENT_CONFIG };

// Results and conditions reach the claim too (`kubectl describe` in the tenant's namespace);
// for a namespaced XR, which has no claim, Crossplane puts them on the XR itself.
const TENANT = Target.TARGET_COMPOSITE_AND_CLAIM;

function fatalResponse(rsp: RunFunctionResponse, message: string, reason: string): RunFunctionResponse {
  rsp.results.push({ severity: Severity.SEVERITY_FATAL, message, reason, target: TENANT });
  return rsp;
}

/** meta.ttl of a converged answer: ten polls. */
export const CONVERGED_TTL_SECONDS = 600;

const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The Composition's step input is not validated by the apiserver: check the name before asking for it. */
function environmentConfigName(req: RunFunctionRequest): string {
  const name = req.input?.['environmentConfigName'];
  if (name === undefined || name === null || name === '') return DEFAULT_ENVIRONMENT_CONFIG;
  if (typeof name !== 'string' || name.length > 253 || !K8S_NAME.test(name)) {
    throw new StepInputError(
      'input.environmentConfigName',
      `${JSON.stringify(name).slice(0, 80)} is not a Kubernetes object name`,
      "set the Composition step's input.environmentConfigName to the EnvironmentConfig's metadata.name",
    );
  }
  return name;
}

/** Who has to fix it decides the reason: the error's type says, never its field's spelling. */
const REASON: Record<FixedBy, string> = { tenant: 'InvalidClaim', platform: 'InvalidEnvironment', 'step-input': 'InvalidInput' };

interface SuppliedEnvironment {
  /** Crossplane answered (found or not): under the declared key or the one we asked under. */
  found: boolean;
  declared: boolean;
  resource?: Json;
}

function suppliedEnvironment(req: RunFunctionRequest): SuppliedEnvironment {
  const declared = req.requiredResources?.[DECLARED_ENVIRONMENT_REQUIREMENT];
  const group = declared ?? req.requiredResources?.[ENVIRONMENT_REQUIREMENT] ?? req.extraResources?.[ENVIRONMENT_REQUIREMENT];
  if (group === undefined) return { found: false, declared: false };
  const first = group.items?.[0]?.resource;
  return { found: true, declared: declared !== undefined, ...(isObject(first) ? { resource: first as Json } : {}) };
}

function declaredNameOf(resource: Json): unknown {
  return isObject(resource['metadata']) ? resource['metadata']['name'] : undefined;
}

function observedComposed(req: RunFunctionRequest): Record<string, ObservedResource> {
  const out: Record<string, ObservedResource> = {};
  for (const [name, r] of Object.entries(req.observed?.resources ?? {})) {
    if (isObject(r?.resource)) out[name] = { resource: r.resource as ObservedResource['resource'] };
  }
  return out;
}

/**
 * Whether the other API's request is gone: Crossplane answers every lookup the core asked for in
 * the same call (core/compose.ts otherRequestOf), so any object found means present.
 */
function answeredLookups(req: RunFunctionRequest): OtherRequest | undefined {
  const groups = [OTHER_REQUEST, OTHER_REQUEST_COMPOSITE].flatMap((key) => req.requiredResources?.[key] ?? []);
  if (groups.length === 0) return undefined;
  return groups.some((g) => (g.items ?? []).length > 0) ? 'present' : 'absent';
}

/** The predecessor's composed resources Crossplane found (core/compose.ts predecessorQueries); undefined: not asked. */
function answeredPredecessors(req: RunFunctionRequest): Json[] | undefined {
  const answered = Object.entries(req.requiredResources ?? {}).filter(([key]) => key.startsWith(PREDECESSOR_PREFIX));
  if (answered.length === 0) return undefined;
  return answered.flatMap(([, group]) => (group.items ?? []).flatMap((i) => (isObject(i.resource) ? [i.resource as Json] : [])));
}

/**
 * None asked: no requirements field at all. Crossplane compares each call's requirements with the
 * previous call's (none before the first), and an empty message is not none: it would call again.
 */
function setRequirements(rsp: RunFunctionResponse, asked: Record<string, ResourceSelector>): void {
  if (Object.keys(asked).length === 0) delete rsp.requirements;
  else rsp.requirements = Requirements.fromPartial({ resources: asked });
}

/** The gRPC handler: the same answer as runFunctionSync, as the SDK's server expects it. */
export async function runFunction(req: RunFunctionRequest): Promise<RunFunctionResponse> {
  return runFunctionSync(req);
}

/** RunFunction without I/O: the simulated control plane drives it synchronously too (explain). */
export function runFunctionSync(req: RunFunctionRequest): RunFunctionResponse {
  const rsp = to(req);
  try {
    const envName = environmentConfigName(req);
    const environment = suppliedEnvironment(req);
    // Crossplane calls again until the returned requirements equal the previous call's (no
    // requirements on the first call equal none): so return none when the step declared the
    // EnvironmentConfig, and otherwise restate ours on every call, the answered one included.
    const asked: Record<string, ResourceSelector> = {};
    if (!environment.declared) asked[ENVIRONMENT_REQUIREMENT] = { apiVersion: ENVIRONMENT_CONFIG_API_VERSION, kind: 'EnvironmentConfig', matchName: envName };
    setRequirements(rsp, asked);
    if (!environment.found) return rsp;
    const data = environment.resource?.['data'];
    if (data === undefined) {
      return fatalResponse(
        rsp,
        `EnvironmentConfig ${envName} not found or has no data. Fix: the platform team applies it (see compositions/examples/environment.yaml)`,
        'EnvironmentMissing',
      );
    }
    const declaredName = declaredNameOf(environment.resource!);
    if (environment.declared && declaredName !== envName) {
      return fatalResponse(
        rsp,
        `input.environmentConfigName: the step declares EnvironmentConfig ${JSON.stringify(declaredName)} in requirements.requiredResources but its input names ${envName}. Fix: give both the same name`,
        'InvalidInput',
      );
    }
    const composite = req.observed?.composite?.resource;
    if (!isObject(composite)) return fatalResponse(rsp, 'request has no observed composite resource', 'BadRequest');

    const otherRequest = answeredLookups(req);
    const predecessors = answeredPredecessors(req);
    // Read once per distinct EnvironmentConfig (undefined when refused: the core words the refusal).
    const environmentReading = knownEnvironment(data);
    const out = composeSecureBucket({
      composite,
      environmentData: data,
      ...(environmentReading !== undefined ? { environment: environmentReading } : {}),
      observed: observedComposed(req),
      ...(otherRequest !== undefined ? { otherRequest } : {}),
      ...(predecessors !== undefined ? { predecessors } : {}),
    });
    // Asked only while a take-over from the other API waits (core/adoption.ts), and restated on the
    // call that answers it: Crossplane calls again until the requirements repeat. Steady state: none.
    for (const [key, q] of Object.entries(out.otherRequestQueries ?? {})) {
      asked[key] = {
        apiVersion: q.apiVersion,
        kind: q.kind,
        ...(q.name !== undefined ? { matchName: q.name } : { matchLabels: { labels: q.matchLabels ?? {} } }),
        ...(q.namespace !== undefined ? { namespace: q.namespace } : {}),
      };
    }
    setRequirements(rsp, asked);
    // One neutral description; a namespaced XR gets it as namespaced managed resources in its namespace.
    const resources = inFamilyOf(composite, out.resources);

    const desired = rsp.desired ?? { composite: undefined, resources: {} };
    rsp.desired = desired;
    for (const [name, resource] of Object.entries(resources)) {
      desired.resources[name] = { resource: resource as unknown as Json, connectionDetails: {}, ready: 0 };
    }
    const composite0 = desired.composite?.resource ?? {};
    desired.composite = {
      resource: { ...composite0, status: { ...((composite0['status'] as Json | undefined) ?? {}), ...out.status } },
      connectionDetails: desired.composite?.connectionDetails ?? {},
      ready: desired.composite?.ready ?? 0,
    };
    const pending = out.status.pendingValues ?? [];
    // The answer is a pure function of the request and Crossplane's tag is a hash of the request,
    // so a converged answer may be reused for as long as Crossplane's response cache likes: longer
    // than its poll (about 60 s), or the cached entry expires just before the next poll asks.
    // While provider values are pending, the SDK's 60 s: with realtime compositions the pipeline's
    // TTL is also when the XR is requeued.
    // (Restating the EnvironmentConfig requirement is steady state; a take-over lookup is not.)
    if (pending.length === 0 && Object.keys(out.otherRequestQueries ?? {}).length === 0 && rsp.meta)
      rsp.meta.ttl = { seconds: CONVERGED_TTL_SECONDS, nanos: 0 };
    rsp.conditions.push({
      type: 'SecureBucketComplete',
      status: pending.length === 0 ? Status.STATUS_CONDITION_TRUE : Status.STATUS_CONDITION_FALSE,
      reason: pending.length === 0 ? 'AllPoliciesFinal' : 'WaitingForProvider',
      message: pending.length === 0 ? `s3://${out.status.bucketName} rendered with all controls` : `waiting for ${pending.join(', ')}`,
      target: TENANT,
    });
    // The notes are for the tenant too (e.g. "confirm the alarm e-mail subscription").
    for (const note of out.notes) rsp.results.push({ severity: Severity.SEVERITY_NORMAL, message: note, target: TENANT });
    // Warnings are the tenant's to act on: they reach the claim, not only the XR.
    for (const { reason, message } of out.warnings) {
      rsp.results.push({ severity: Severity.SEVERITY_WARNING, message, reason, target: TENANT });
    }
    return rsp;
  } catch (err) {
    if (err instanceof Refusal) return fatalResponse(rsp, err.message, REASON[err.fixedBy]);
    // A bug of ours must not take the server down or leak internals: report it and move on.
    return fatalResponse(rsp, `internal error rendering the bucket: ${err instanceof Error ? err.message : String(err)}`, 'InternalError');
  }
}
