// The RunFunction adapter: protobuf request in, protobuf response out. It asks Crossplane for the
// platform's EnvironmentConfig, hands plain objects to the pure core, and turns every error into
// a Fatal result. It never throws.
import {
  Requirements,
  Severity,
  Status,
  Target,
  type RunFunctionRequest,
  type RunFunctionResponse,
  to,
} from '@crossplane-org/function-sdk-typescript';
import { ClaimError, composeSecureBucket, DEFAULT_ENVIRONMENT_CONFIG, ENVIRONMENT_CONFIG_API_VERSION, isObject, type Json, type ObservedResource } from './core/index.js';

/** The requirement key under which Crossplane returns the EnvironmentConfig. */
export const ENVIRONMENT_REQUIREMENT = 'platform-environment';
export { DEFAULT_ENVIRONMENT_CONFIG };

function fatalResponse(rsp: RunFunctionResponse, message: string, reason: string): RunFunctionResponse {
  rsp.results.push({ severity: Severity.SEVERITY_FATAL, message, reason });
  return rsp;
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The Composition's step input is not validated by the apiserver: check the name before asking for it. */
function environmentConfigName(req: RunFunctionRequest): string {
  const name = req.input?.['environmentConfigName'];
  if (name === undefined || name === null || name === '') return DEFAULT_ENVIRONMENT_CONFIG;
  if (typeof name !== 'string' || name.length > 253 || !K8S_NAME.test(name)) {
    throw new ClaimError(
      'input.environmentConfigName',
      `${JSON.stringify(name).slice(0, 80)} is not a Kubernetes object name`,
      "set the Composition step's input.environmentConfigName to the EnvironmentConfig's metadata.name",
    );
  }
  return name;
}

/** Who has to fix it: the platform team (input, EnvironmentConfig) or the tenant (claim). */
function reasonFor(err: ClaimError): string {
  if (err.field.startsWith('input.')) return 'InvalidInput';
  if (err.field.startsWith('EnvironmentConfig')) return 'InvalidEnvironment';
  return 'InvalidClaim';
}

/** The EnvironmentConfig's data once Crossplane has supplied it; undefined on the first call. */
function suppliedEnvironment(req: RunFunctionRequest): { found: boolean; data?: unknown } {
  const group = req.requiredResources?.[ENVIRONMENT_REQUIREMENT] ?? req.extraResources?.[ENVIRONMENT_REQUIREMENT];
  if (group === undefined) return { found: false };
  const first = group.items?.[0]?.resource;
  return first === undefined ? { found: true } : { found: true, data: (first as Json)['data'] };
}

function observedComposed(req: RunFunctionRequest): Record<string, ObservedResource> {
  const out: Record<string, ObservedResource> = {};
  for (const [name, r] of Object.entries(req.observed?.resources ?? {})) {
    if (isObject(r?.resource)) out[name] = { resource: r.resource as ObservedResource['resource'] };
  }
  return out;
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
    // Always restate the requirement: Crossplane calls again until requirements stop changing.
    rsp.requirements = Requirements.fromPartial({
      resources: { [ENVIRONMENT_REQUIREMENT]: { apiVersion: ENVIRONMENT_CONFIG_API_VERSION, kind: 'EnvironmentConfig', matchName: envName } },
    });
    const environment = suppliedEnvironment(req);
    if (!environment.found) return rsp;
    if (environment.data === undefined) {
      return fatalResponse(rsp, `EnvironmentConfig ${envName} not found or has no data. Fix: the platform team applies it (see compositions/examples/environment.yaml)`, 'EnvironmentMissing');
    }
    const composite = req.observed?.composite?.resource;
    if (!isObject(composite)) return fatalResponse(rsp, 'request has no observed composite resource', 'BadRequest');

    const out = composeSecureBucket({ composite, environmentData: environment.data, observed: observedComposed(req) });

    const desired = rsp.desired ?? { composite: undefined, resources: {} };
    rsp.desired = desired;
    for (const [name, resource] of Object.entries(out.resources)) {
      desired.resources[name] = { resource: resource as unknown as Json, connectionDetails: {}, ready: 0 };
    }
    const composite0 = desired.composite?.resource ?? {};
    desired.composite = {
      resource: { ...composite0, status: { ...((composite0['status'] as Json | undefined) ?? {}), ...out.status } },
      connectionDetails: desired.composite?.connectionDetails ?? {},
      ready: desired.composite?.ready ?? 0,
    };
    const pending = out.status.pendingValues ?? [];
    rsp.conditions.push({
      type: 'SecureBucketComplete',
      status: pending.length === 0 ? Status.STATUS_CONDITION_TRUE : Status.STATUS_CONDITION_FALSE,
      reason: pending.length === 0 ? 'AllPoliciesFinal' : 'WaitingForProvider',
      message: pending.length === 0 ? `s3://${out.status.bucketName} rendered with all controls` : `waiting for ${pending.join(', ')}`,
    });
    for (const note of out.notes) rsp.results.push({ severity: Severity.SEVERITY_NORMAL, message: note });
    // Warnings are the tenant's to act on: they reach the claim, not only the XR.
    for (const { reason, message } of out.warnings) {
      rsp.results.push({ severity: Severity.SEVERITY_WARNING, message, reason, target: Target.TARGET_COMPOSITE_AND_CLAIM });
    }
    return rsp;
  } catch (err) {
    if (err instanceof ClaimError) return fatalResponse(rsp, err.message, reasonFor(err));
    // A bug of ours must not take the server down or leak internals: report it and move on.
    return fatalResponse(rsp, `internal error rendering the bucket: ${err instanceof Error ? err.message : String(err)}`, 'InternalError');
  }
}
