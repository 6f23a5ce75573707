// The requests the bench sends: what Crossplane sends a function on a steady-state reconcile
// (EnvironmentConfig supplied, the provider's observed resources fed back), for the example
// claims and for generated ones. Also used by the echo server, so both build the same bytes.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { RunFunctionRequest, RunFunctionResponse, Severity } from '@crossplane-org/function-sdk-typescript';
import { ENVIRONMENT_REQUIREMENT } from '../functions/secure-bucket/src/function.js';
import { isObject, type Json } from '../functions/secure-bucket/src/core/index.js';
import { asClaim, compositeForClaim, type Claim } from '../functions/secure-bucket/cli/control-plane/index.js';
import {
  converge,
  renderClaim,
  requestFor as controlPlaneRequest,
  suppliedObjects,
  type Pass,
  type RenderOptions,
} from '../functions/secure-bucket/cli/control-plane/index.js';
import { functionInputFrom, stepRequirementsFrom } from '../functions/secure-bucket/cli/composition.js';
import { inProcessFunction } from '../functions/secure-bucket/cli/control-plane/index.js';
import { generateClaims, GENERATED_NAMESPACES } from './claim-generator.js';

/** The repo root, from bench/*.ts (ts-jest) or dist/bench/*.js (compiled). */
export function repoRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '../..') : path.resolve(here, '..');
}

function yamlDocs(file: string): unknown[] {
  return loadAll(readFileSync(file, 'utf8')).filter((d) => d !== null && d !== undefined);
}

export function exampleClaims(root = repoRoot()): Claim[] {
  const dir = path.join(root, 'compositions/examples/claims');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => yamlDocs(path.join(dir, f)).map((d) => asClaim(d, f)));
}

/**
 * The example EnvironmentConfig, with the generated claims' namespaces registered as tenants (the
 * function names nothing for an unregistered namespace).
 */
export function exampleEnvironment(root = repoRoot()): Json {
  const env = yamlDocs(path.join(root, 'compositions/examples/environment.yaml')).find(isObject);
  if (!env) throw new Error('compositions/examples/environment.yaml holds no EnvironmentConfig');
  const data = env['data'] as Json;
  data['tenants'] = { ...(data['tenants'] as Json), ...Object.fromEntries(GENERATED_NAMESPACES.map((ns) => [ns, {}])) };
  return env;
}

/** A RunFunctionRequest with the EnvironmentConfig supplied, as on every call after the first. */
export function requestFor(tag: string, composite: Json, environment: Json, observed: Record<string, Json> = {}): RunFunctionRequest {
  return controlPlaneRequest(composite, observed, { tag, supplied: { [ENVIRONMENT_REQUIREMENT]: suppliedObjects([environment]) } });
}

export function fatalOf(rsp: RunFunctionResponse): string | undefined {
  return rsp.results.find((r) => r.severity === Severity.SEVERITY_FATAL)?.message;
}

/**
 * The request of a reconcile once the claim has converged (the simulated control plane, in
 * process): what Crossplane sends on every steady-state reconcile. Rejects a claim the function refuses.
 */
export async function steadyStateRequest(tag: string, claim: Claim, environment: Json): Promise<RunFunctionRequest> {
  const rendered = await converge(inProcessFunction, compositeForClaim(claim), { clusterObjects: [environment], converge: true, tag });
  if (rendered.fatal) throw new Error(`${claim.metadata.namespace}/${claim.metadata.name}: ${rendered.fatal}`);
  return (rendered.history.at(-1) as Pass).request;
}

/** Steady-state requests for the example claims, tagged with the claim's name. */
export async function exampleRequests(root = repoRoot()): Promise<Array<{ name: string; request: RunFunctionRequest }>> {
  const environment = exampleEnvironment(root);
  return Promise.all(
    exampleClaims(root).map(async (claim) => ({ name: claim.metadata.name, request: await steadyStateRequest(claim.metadata.name, claim, environment) })),
  );
}

/** The platform's bucket-name prefix: fixed names in generated claims start with it. */
export function prefixOf(environment: Record<string, unknown>): string {
  return String((environment['data'] as Record<string, unknown>)['bucketNamePrefix']);
}

/** The batch: distinct generated claims, rendered as Crossplane calls the step (its input, its declared EnvironmentConfig). */
export function batchWorkload(root: string, count: number, seed = 7): { claims: Claim[]; opts: RenderOptions } {
  const environment = exampleEnvironment(root);
  const region = String((environment['data'] as Record<string, unknown>)['region']);
  const claims = generateClaims(count, { region, bucketNamePrefix: prefixOf(environment), seed });
  const composition = path.join(root, 'compositions/composition.yaml');
  const input = functionInputFrom(composition);
  return { claims, opts: { clusterObjects: [environment], requiredResources: stepRequirementsFrom(composition), ...(input ? { input } : {}) } };
}

/**
 * The batch's first-call requests as bytes (what renderClaim sends: recorded by a client that
 * answers nothing, so the loop stops after one call).
 */
export async function batchPayloads(root: string, count: number, seed = 7): Promise<Buffer[]> {
  const { claims, opts } = batchWorkload(root, count, seed);
  const payloads: Buffer[] = [];
  const recorder = {
    runFunction: async (req: RunFunctionRequest) => (payloads.push(Buffer.from(RunFunctionRequest.encode(req).finish())), RunFunctionResponse.fromPartial({})),
    close: () => {},
  };
  for (const claim of claims) await renderClaim(recorder, claim, opts);
  return payloads;
}
