// Shared fixtures for tests of the function: example claims, platform environments, and a
// RunFunction driver that answers requirements the way Crossplane does.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Severity, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { ENVIRONMENT_REQUIREMENT, runFunction } from '../../functions/secure-bucket/src/function.js';
import { asClaim, compositeForClaim, type Claim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { converge, desiredOf, requestFor, suppliedObjects } from '../../functions/secure-bucket/cli/control-plane/index.js';
import type { FakeAccount } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { inProcessFunction, type FunctionClient } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { loadYamlDocuments, repoRoot } from './repo.js';

export type Json = Record<string, unknown>;

export const claimsDir = path.join(repoRoot, 'compositions/examples/claims');

export function exampleClaims(): Array<{ file: string; claim: Claim }> {
  return readdirSync(claimsDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ file: f, claim: asClaim(loadYamlDocuments(path.join(claimsDir, f))[0], f) }));
}

export function exampleClaim(name: string): Claim {
  const found = exampleClaims().find((c) => c.claim.metadata.name === name);
  if (!found) throw new Error(`no example claim named ${name}`);
  return found.claim;
}

/** The example EnvironmentConfig, optionally with parts of its data replaced. */
export function environmentConfig(patch: (data: Json) => void = () => {}): Json {
  const env = structuredClone(loadYamlDocuments('compositions/examples/environment.yaml')[0]) as Json;
  patch(env['data'] as Json);
  return env;
}

/** Platform variants the function must handle: Pod Identity, and a dedicated VPC endpoint. */
export const podIdentityDedicatedEndpoint = (data: Json): void => {
  data['identity'] = { ...(data['identity'] as Json), mode: 'PodIdentity' };
  delete (data['identity'] as Json)['oidcIssuer'];
  data['network'] = { vpcId: 'vpc-0a1b2c3d4e5f60718', endpoint: { mode: 'Dedicated', routeTableIds: ['rtb-0a1b2c3d4e5f60718', 'rtb-0f1e2d3c4b5a69788'] } };
};

export function withSpec(claim: Claim, mutate: (spec: Json) => void): Claim {
  const copy = structuredClone(claim);
  mutate(copy.spec);
  return copy;
}

export interface Call {
  composite: Json;
  environment?: Json | null;
  observed?: Record<string, Json>;
  input?: Json;
  desired?: Record<string, Json>;
}

/** One RunFunction call with the EnvironmentConfig already supplied (null: supplied but absent). */
export async function call(c: Call): Promise<RunFunctionResponse> {
  const supplied: Parameters<typeof requestFor>[2] & object = {};
  if (c.environment !== undefined) supplied.supplied = { [ENVIRONMENT_REQUIREMENT]: suppliedObjects(c.environment === null ? [] : [c.environment]) };
  return runFunction(
    requestFor(c.composite, c.observed ?? {}, {
      tag: 'test',
      ...supplied,
      ...(c.input ? { input: c.input } : {}),
      ...(c.desired ? { desired: c.desired } : {}),
    }),
  );
}

/** The function called in-process behind the FunctionClient interface render uses over gRPC. */
export const inProcessClient: FunctionClient = inProcessFunction;

export function fatalOf(rsp: RunFunctionResponse): string | undefined {
  return rsp.results.find((r) => r.severity === Severity.SEVERITY_FATAL)?.message;
}

export function desiredResources(rsp: RunFunctionResponse): Record<string, Json> {
  return desiredOf(rsp).resources;
}

export function desiredStatus(rsp: RunFunctionResponse): Json {
  return desiredOf(rsp).status;
}

export interface Passes {
  /** Pass 1: only what may already exist in AWS, Observe-only. */
  observing: RunFunctionResponse;
  /** The pass that takes over and renders everything (values the provider has not reported yet still pending). */
  first: RunFunctionResponse;
  /** The pass after which nothing changes. */
  converged: RunFunctionResponse;
  /** What Crossplane observed when it made the converged call (the provider's reports). */
  observedAtConverged: Record<string, Json>;
  /** The XR the function was called with (a claim's XR, or the v2 XR itself). */
  composite: Json;
}

export interface PassOptions {
  maxPasses?: number;
  /** The AWS account the fake provider works in (default: a fresh, empty one). */
  account?: FakeAccount;
  /** Seeds the ids AWS assigns (key ids, endpoint ids); default: the XR's name. */
  idSeed?: string;
}

/**
 * The simulated control plane, in process, against a fake account: every pass of the claim (or v2
 * XSecureBucket, its own XR) until nothing changes.
 */
export async function renderPasses(claim: Claim, environment: Json = environmentConfig(), options: PassOptions = {}): Promise<Passes> {
  const composite = compositeForClaim(claim);
  const rendered = await converge(inProcessFunction, composite, {
    clusterObjects: [environment],
    converge: true,
    maxPasses: options.maxPasses ?? 8,
    ...(options.account ? { account: options.account } : {}),
    ...(options.idSeed ? { idSeed: options.idSeed } : {}),
  });
  const responses = rendered.history.map((p) => p.response);
  const last = rendered.history.at(-1)!.request;
  const observedAtConverged = Object.fromEntries(Object.entries(last.observed?.resources ?? {}).map(([k, v]) => [k, v.resource as Json]));
  const first = responses.find((r) => !(desiredStatus(r)['pendingValues'] as string[] | undefined)?.includes('observedState')) ?? responses.at(-1)!;
  return { observing: responses[0]!, first, converged: responses.at(-1)!, observedAtConverged, composite };
}

export function forProvider(resource: Json | undefined): Json {
  return ((resource?.['spec'] as Json | undefined)?.['forProvider'] ?? {}) as Json;
}
