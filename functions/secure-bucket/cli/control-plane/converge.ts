// The simulated control plane, one loop for every caller (render, explain, bench, tests): the XR
// goes to the function in RunFunctionRequests, the function's resource requirements are answered
// from the "cluster", and (converging) the fake provider's reports are fed back pass after pass
// until the desired state stops changing. The loop is a generator, so one body serves a function
// reached over gRPC, in process, or synchronously (runFunctionSync: the pure core behind its adapter).
import { RunFunctionRequest, Severity, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { canonicalJson, isObject, type Json } from '../../src/core/index.js';
import type { FunctionClient } from './client.js';
import { compositeForClaim, type Claim } from './composite.js';
import { FakeAccount } from './fake-provider.js';
import type { RenderOptions } from './options.js';
import { optionsFor } from '../xr/step.js';

export type { RenderOptions, RequiredResourceSelector } from './options.js';

/** The last request of one pass (its requirements answered) and the function's response to it. */
export interface Pass {
  request: RunFunctionRequest;
  response: RunFunctionResponse;
}

export interface RenderedClaim {
  composite: Json;
  resources: Record<string, Json>;
  status: Json;
  results: Array<{ severity: string; message: string; reason?: string }>;
  /** Reconciles until the desired state reached its final value. */
  passes: number;
  fatal?: string;
  /** Every pass up to the one returned, oldest first. */
  history: Pass[];
  /** What the provider reported after the returned pass (the observed state of the next request). */
  observed: Record<string, Json>;
}

/** Crossplane v2.3 (internal/xfn MaxRequirementsIterations): calls after the first. */
const MAX_REQUIREMENT_ITERATIONS = 5;

type Supplied = Record<string, { items: Array<{ resource: Json; connectionDetails: Record<string, never>; ready: number }> }>;

/** The one RunFunctionRequest builder: the XR, what the provider observed, the requirements answered so far. */
export function requestFor(
  composite: Json,
  observed: Record<string, Json> = {},
  opts: { tag?: string; input?: Json; supplied?: Supplied; desired?: Record<string, Json>; context?: Json } = {},
): RunFunctionRequest {
  const wrap = (resources: Record<string, Json>) => Object.fromEntries(Object.entries(resources).map(([k, v]) => [k, { resource: v }]));
  return RunFunctionRequest.fromPartial({
    meta: { tag: opts.tag ?? 'render' },
    observed: { composite: { resource: composite }, resources: wrap(observed) },
    // What earlier pipeline steps desired (none here: ours is the first step).
    desired: { resources: wrap(opts.desired ?? {}) },
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.context !== undefined ? { context: opts.context } : {}),
    requiredResources: opts.supplied ?? {},
  });
}

/** The answer to a requirement: the objects it selects (none: supplied but absent). */
export function suppliedObjects(objects: Json[]): Supplied[string] {
  return { items: objects.map((resource) => ({ resource, connectionDetails: {}, ready: 0 })) };
}

function selects(
  selector: { apiVersion: string; kind: string; matchName?: string; matchLabels?: { labels: Record<string, string> }; namespace?: string },
  obj: Json,
): boolean {
  if (obj['apiVersion'] !== selector.apiVersion || obj['kind'] !== selector.kind) return false;
  const metadata = isObject(obj['metadata']) ? obj['metadata'] : {};
  // Namespaced: only objects of that namespace; without one, cluster-scoped objects (or any, by labels).
  if (selector.namespace !== undefined && metadata['namespace'] !== selector.namespace) return false;
  if (selector.matchName !== undefined) return metadata['name'] === selector.matchName;
  const labels = isObject(metadata['labels']) ? metadata['labels'] : {};
  return Object.entries(selector.matchLabels?.labels ?? {}).every(([k, v]) => labels[k] === v);
}

function severityName(s: Severity): string {
  return s === Severity.SEVERITY_FATAL ? 'Fatal' : s === Severity.SEVERITY_WARNING ? 'Warning' : 'Normal';
}

export function desiredOf(rsp: RunFunctionResponse): { resources: Record<string, Json>; status: Json } {
  const resources: Record<string, Json> = {};
  for (const [name, r] of Object.entries(rsp.desired?.resources ?? {})) if (r.resource) resources[name] = r.resource as Json;
  return { resources, status: ((rsp.desired?.composite?.resource as Json | undefined)?.['status'] ?? {}) as Json };
}

/**
 * One reconcile's calls of our step, as Crossplane's FetchingFunctionRunner makes them: the
 * declared resources go into the first request; the function is called again while the
 * requirements it returns differ from the previous call's (none before the first call), each
 * time with the declared resources plus what it asked for.
 */
function* reconcileCalls(
  composite: Json,
  observed: Record<string, Json>,
  opts: RenderOptions,
  tag: string,
): Generator<RunFunctionRequest, Pass, RunFunctionResponse> {
  const declared: Supplied = {};
  for (const r of opts.requiredResources ?? []) {
    const selector = {
      apiVersion: r.apiVersion,
      kind: r.kind,
      ...(r.name !== undefined ? { matchName: r.name } : { matchLabels: { labels: r.matchLabels ?? {} } }),
    };
    declared[r.requirementName] = suppliedObjects(opts.clusterObjects.filter((o) => selects(selector, o)));
  }
  const base = { tag, ...(opts.input ? { input: opts.input } : {}) };
  let previous = canonicalJson(null);
  let request = requestFor(composite, observed, { ...base, supplied: declared });
  for (let iteration = 0; iteration <= MAX_REQUIREMENT_ITERATIONS; iteration++) {
    const response: RunFunctionResponse = yield request;
    if (response.results.some((r) => r.severity === Severity.SEVERITY_FATAL)) return { request, response };
    const requirements = canonicalJson(response.requirements ?? null);
    if (requirements === previous) return { request, response };
    previous = requirements;
    const supplied: Supplied = { ...declared };
    for (const [key, selector] of Object.entries(response.requirements?.resources ?? {}))
      supplied[key] = suppliedObjects(opts.clusterObjects.filter((o) => selects(selector, o)));
    request = requestFor(composite, observed, { ...base, supplied, ...(response.context ? { context: response.context as Json } : {}) });
  }
  throw new Error(`requirements didn't stabilize after the maximum number of iterations (${MAX_REQUIREMENT_ITERATIONS})`);
}

function accountFor(opts: RenderOptions): FakeAccount {
  if (opts.account) return opts.account;
  const env = opts.clusterObjects.find((o) => o['kind'] === 'EnvironmentConfig');
  const data = (env?.['data'] ?? {}) as Json;
  return new FakeAccount({ accountId: String(data['accountId'] ?? '000000000000'), partition: String(data['partition'] ?? 'aws') });
}

/** One reconcile of the XR, as the control plane saw it: the pipeline's desired state and results. */
export interface Reconciled {
  resources: Record<string, Json>;
  status: Json;
  results: RenderedClaim['results'];
  fatal?: string;
  /** Our step's last request and response, when the pass ran through our pipeline emulation. */
  pass?: Pass;
}

/** What one pass reconciles: the XR with the status the last pass wrote, and what the provider reported. */
export interface PassInput {
  xr: Json;
  observed: Record<string, Json>;
  pass: number;
  tag: string;
}

/**
 * The one converge loop, whoever runs a reconcile (our pipeline emulation, or the real Crossplane
 * engine: engine.ts): pass after pass until nothing changes (one pass without `converge`).
 */
function* passes(composite: Json, opts: RenderOptions): Generator<PassInput, RenderedClaim, Reconciled> {
  const provider = accountFor(opts).providerFor(opts.idSeed ?? String((composite['metadata'] as Json)['name']));
  const maxPasses = opts.converge ? (opts.maxPasses ?? 10) : 1;
  const history: Pass[] = [];
  let observed: Record<string, Json> = {};
  let status: Json = {};
  let previous: RenderedClaim | undefined;
  let previousFingerprint = '';
  for (let pass = 1; pass <= maxPasses; pass++) {
    const xr = pass === 1 ? composite : { ...composite, status };
    const done = yield { xr, observed, pass, tag: opts.tag ?? `render-pass-${pass}` };
    if (done.pass) history.push(done.pass);
    const { resources, results, fatal } = done;
    status = done.status;
    const rendered: RenderedClaim = {
      composite,
      resources,
      status,
      results,
      passes: pass,
      history: [...history],
      observed,
      ...(fatal !== undefined ? { fatal } : {}),
    };
    // A Fatal changes nothing in AWS: Crossplane applies no desired state from a failed pipeline.
    if (fatal !== undefined || !opts.converge) return rendered;
    // Converged when a pass changes nothing: the previous pass already held the final state.
    const fingerprint = canonicalJson({ resources, status });
    if (previous !== undefined && fingerprint === previousFingerprint) {
      if (opts.deleteAfter) provider.deleteComposite();
      return previous;
    }
    previous = rendered;
    previousFingerprint = fingerprint;
    observed = provider.reconcile(resources);
    previous.observed = observed;
  }
  throw new Error(`${String((composite['metadata'] as Json)['name'])}: desired state still changing after ${maxPasses} passes`);
}

/** Our step's last response of a reconcile, as the loop reads a pass. */
function reconciledFrom(done: Pass): Reconciled {
  const rsp = done.response;
  const { resources, status } = desiredOf(rsp);
  const results = rsp.results.map((r) => ({ severity: severityName(r.severity), message: r.message, ...(r.reason ? { reason: r.reason } : {}) }));
  const fatal = rsp.results.find((r) => r.severity === Severity.SEVERITY_FATAL);
  return { resources, status, results, pass: done, ...(fatal ? { fatal: fatal.message } : {}) };
}

/** The loop with each pass run by our pipeline emulation: every call of our step is yielded. */
function* reconcile(composite: Json, opts: RenderOptions): Generator<RunFunctionRequest, RenderedClaim, RunFunctionResponse> {
  const loop = passes(composite, opts);
  let step = loop.next();
  while (!step.done) {
    const done = yield* reconcileCalls(step.value.xr, step.value.observed, opts, step.value.tag);
    step = loop.next(reconciledFrom(done));
  }
  return step.value;
}

/** The loop with each pass run by someone else (engine.ts: the real Crossplane reconciler). */
export async function convergeWith(reconcilePass: (input: PassInput) => Promise<Reconciled>, composite: Json, opts: RenderOptions): Promise<RenderedClaim> {
  const loop = passes(composite, opts);
  let step = loop.next();
  while (!step.done) step = loop.next(await reconcilePass(step.value));
  return step.value;
}

/** One reconcile's calls (no provider, no further passes) through a FunctionClient: its last response. */
export async function reconcileOnce(client: FunctionClient, composite: Json, opts: RenderOptions): Promise<RunFunctionResponse> {
  const calls = reconcileCalls(composite, {}, opts, opts.tag ?? 'render');
  let step = calls.next();
  while (!step.done) step = calls.next(await client.runFunction(step.value));
  return step.value.response;
}

/** Drives the function through a FunctionClient: over gRPC (render) or in process (tests, bench). */
export async function converge(client: FunctionClient, composite: Json, opts: RenderOptions): Promise<RenderedClaim> {
  const loop = reconcile(composite, opts);
  let step = loop.next();
  while (!step.done) step = loop.next(await client.runFunction(step.value));
  return step.value;
}

/** Drives a synchronous RunFunction (runFunctionSync: the adapter and the pure core, no I/O). */
export function convergeSync(run: (req: RunFunctionRequest) => RunFunctionResponse, composite: Json, opts: RenderOptions): RenderedClaim {
  const loop = reconcile(composite, opts);
  let step = loop.next();
  while (!step.done) step = loop.next(run(step.value));
  return step.value;
}

/** A claim or a v2 XSecureBucket, each through its own Composition's step. */
export function renderClaim(client: FunctionClient, claim: Claim, opts: RenderOptions): Promise<RenderedClaim> {
  return converge(client, compositeForClaim(claim), optionsFor(claim, opts));
}
