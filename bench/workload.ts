// The requests the bench sends: what Crossplane sends a function on a steady-state reconcile
// (EnvironmentConfig supplied, the provider's observed resources fed back), for the example
// claims and for generated ones. Also used by the echo server, so both build the same bytes.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { RunFunctionRequest, Severity, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { ENVIRONMENT_REQUIREMENT, runFunction } from '../functions/secure-bucket/src/function.js';
import { isObject, type Json } from '../functions/secure-bucket/src/core/fields.js';
import { asClaim, compositeForClaim, type Claim } from '../functions/secure-bucket/cli/control-plane/composite.js';
import { FakeAccount } from '../functions/secure-bucket/cli/control-plane/fake-provider.js';
import { GENERATED_NAMESPACES } from './claim-generator.js';

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
  return RunFunctionRequest.fromPartial({
    meta: { tag },
    observed: { composite: { resource: composite }, resources: Object.fromEntries(Object.entries(observed).map(([k, v]) => [k, { resource: v }])) },
    desired: { resources: {} },
    requiredResources: { [ENVIRONMENT_REQUIREMENT]: { items: [{ resource: environment, connectionDetails: {}, ready: 0 }] } },
  });
}

export function fatalOf(rsp: RunFunctionResponse): string | undefined {
  return rsp.results.find((r) => r.severity === Severity.SEVERITY_FATAL)?.message;
}

function desired(rsp: RunFunctionResponse): { resources: Record<string, Json>; status: Json } {
  const resources: Record<string, Json> = {};
  for (const [k, v] of Object.entries(rsp.desired?.resources ?? {})) if (v.resource) resources[k] = v.resource as Json;
  return { resources, status: ((rsp.desired?.composite?.resource as Json | undefined)?.['status'] ?? {}) as Json };
}

/**
 * The request of a reconcile once the claim has converged: the function's desired state fed to the
 * fake provider pass after pass until nothing changes, that last request returned. Rejects a claim
 * the function refuses.
 */
export async function steadyStateRequest(tag: string, claim: Claim, environment: Json, maxPasses = 8): Promise<RunFunctionRequest> {
  const composite = compositeForClaim(claim);
  const data = environment['data'] as Json;
  const provider = new FakeAccount({ accountId: String(data['accountId']), partition: String(data['partition'] ?? 'aws') }).providerFor(String((composite['metadata'] as Json)['name']));
  let request = requestFor(tag, composite, environment);
  let previous = '';
  for (let pass = 1; pass <= maxPasses; pass++) {
    const rsp = await runFunction(request);
    const fatal = fatalOf(rsp);
    if (fatal) throw new Error(`${claim.metadata.namespace}/${claim.metadata.name}: ${fatal}`);
    const { resources, status } = desired(rsp);
    const now = JSON.stringify(resources);
    if (now === previous) return request;
    previous = now;
    request = requestFor(tag, { ...composite, status }, environment, provider.reconcile(resources));
  }
  throw new Error(`${claim.metadata.namespace}/${claim.metadata.name}: did not converge in ${maxPasses} passes`);
}

/** Steady-state requests for the example claims, tagged with the claim's name. */
export async function exampleRequests(root = repoRoot()): Promise<Array<{ name: string; request: RunFunctionRequest }>> {
  const environment = exampleEnvironment(root);
  return Promise.all(exampleClaims(root).map(async (claim) => ({ name: claim.metadata.name, request: await steadyStateRequest(claim.metadata.name, claim, environment) })));
}
