// Drives a running function the way a Crossplane control plane does for one claim: it sends
// RunFunctionRequests over gRPC, supplies the resources the Composition step declares before the
// first call, answers the function's own requirements, and (converging) feeds back provider
// status pass after pass until the desired state stops changing.
import { RunFunctionRequest, Severity, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import type { FunctionClient } from '../client.js';
import { optionsFor, type Step } from '../xr/step.js';
import { canonicalJson } from '../core/policy.js';
import { isObject, type Json } from '../core/fields.js';
import { compositeForClaim, type Claim } from './composite.js';
import { FakeAccount } from './fake-provider.js';

export interface RenderOptions {
  /** Objects the "cluster" holds for the function's requirements (e.g. the EnvironmentConfig). */
  clusterObjects: Json[];
  /** The function step's input from the Composition. */
  input?: Json;
  /** The step's requirements.requiredResources: supplied before the first call, as Crossplane does. */
  requiredResources?: RequiredResourceSelector[];
  /** The v2 Composition's step, for v2 XSecureBuckets (xr/step.ts); without it they get the fields above. */
  namespacedStep?: Step;
  converge?: boolean;
  maxPasses?: number;
  /** The AWS account the fake provider reconciles against (default: a fresh, empty one). */
  account?: FakeAccount;
  /** After converging, delete the claim as Crossplane would: AWS keeps only what is Orphan. */
  deleteAfter?: boolean;
}

export interface RenderedClaim {
  composite: Json;
  resources: Record<string, Json>;
  status: Json;
  results: Array<{ severity: string; message: string; reason?: string }>;
  /** Reconciles until the desired state reached its final value. */
  passes: number;
  fatal?: string;
}

/** One entry of a Composition step's requirements.requiredResources (Composition CRD, v1). */
export interface RequiredResourceSelector {
  requirementName: string;
  apiVersion: string;
  kind: string;
  name?: string;
  matchLabels?: Record<string, string>;
}

/** Crossplane v2.3 (internal/xfn MaxRequirementsIterations): calls after the first. */
const MAX_REQUIREMENT_ITERATIONS = 5;

type Selector = { apiVersion: string; kind: string; matchName?: string; matchLabels?: { labels: Record<string, string> } };
type Supplied = Record<string, { items: Array<{ resource: Json; connectionDetails: Record<string, never>; ready: number }> }>;

function selects(selector: Selector, obj: Json): boolean {
  if (obj['apiVersion'] !== selector.apiVersion || obj['kind'] !== selector.kind) return false;
  const metadata = isObject(obj['metadata']) ? obj['metadata'] : {};
  if (selector.matchName !== undefined) return metadata['name'] === selector.matchName;
  const labels = isObject(metadata['labels']) ? metadata['labels'] : {};
  return Object.entries(selector.matchLabels?.labels ?? {}).every(([k, v]) => labels[k] === v);
}

function fetchFrom(objects: Json[], selector: Selector): Supplied[string] {
  return { items: objects.filter((o) => selects(selector, o)).map((resource) => ({ resource, connectionDetails: {}, ready: 0 })) };
}

/**
 * One reconcile's calls of our step, as Crossplane's FetchingFunctionRunner makes them: the
 * declared resources go into the first request; the function is called again while the
 * requirements it returns differ from the previous call's (none before the first call), each
 * time with the declared resources plus what it asked for.
 */
export async function reconcileOnce(client: FunctionClient, base: Json, opts: RenderOptions): Promise<RunFunctionResponse> {
  const declared: Supplied = {};
  for (const r of opts.requiredResources ?? []) {
    const selector: Selector = { apiVersion: r.apiVersion, kind: r.kind, ...(r.name !== undefined ? { matchName: r.name } : { matchLabels: { labels: r.matchLabels ?? {} } }) };
    declared[r.requirementName] = fetchFrom(opts.clusterObjects, selector);
  }
  let previous = canonicalJson(null);
  let req = RunFunctionRequest.fromPartial({ ...base, requiredResources: declared });
  for (let iteration = 0; iteration <= MAX_REQUIREMENT_ITERATIONS; iteration++) {
    const rsp = await client.runFunction(req);
    if (rsp.results.some((r) => r.severity === Severity.SEVERITY_FATAL)) return rsp;
    const requirements = canonicalJson(rsp.requirements ?? null);
    if (requirements === previous) return rsp;
    previous = requirements;
    const supplied: Supplied = { ...declared };
    for (const [key, selector] of Object.entries(rsp.requirements?.resources ?? {})) supplied[key] = fetchFrom(opts.clusterObjects, selector);
    req = RunFunctionRequest.fromPartial({ ...base, requiredResources: supplied, ...(rsp.context ? { context: rsp.context } : {}) });
  }
  throw new Error(`requirements didn't stabilize after the maximum number of iterations (${MAX_REQUIREMENT_ITERATIONS})`);
}

function severityName(s: Severity): string {
  return s === Severity.SEVERITY_FATAL ? 'Fatal' : s === Severity.SEVERITY_WARNING ? 'Warning' : 'Normal';
}

export async function renderClaim(client: FunctionClient, claim: Claim, options: RenderOptions): Promise<RenderedClaim> {
  const opts = optionsFor(claim, options);
  const composite = compositeForClaim(claim);
  const env = opts.clusterObjects.find((o) => o['kind'] === 'EnvironmentConfig');
  const envData = (env?.['data'] ?? {}) as Json;
  const aws = opts.account ?? new FakeAccount({ accountId: String(envData['accountId'] ?? '000000000000'), partition: String(envData['partition'] ?? 'aws') });
  const provider = aws.providerFor(String((composite['metadata'] as Json)['name']));
  const maxPasses = opts.converge ? (opts.maxPasses ?? 10) : 1;

  let observed: Record<string, Json> = {};
  let status: Json = {};
  let previous: RenderedClaim | undefined;
  let previousFingerprint = '';
  for (let pass = 1; pass <= maxPasses; pass++) {
    const base = {
      meta: { tag: `render-pass-${pass}` },
      observed: {
        composite: { resource: pass === 1 ? composite : { ...composite, status } },
        resources: Object.fromEntries(Object.entries(observed).map(([k, v]) => [k, { resource: v }])),
      },
      desired: { resources: {} },
      input: opts.input,
    };
    const rsp = await reconcileOnce(client, base, opts);
    const resources: Record<string, Json> = {};
    for (const [name, r] of Object.entries(rsp.desired?.resources ?? {})) if (r.resource) resources[name] = r.resource as Json;
    status = ((rsp.desired?.composite?.resource as Json | undefined)?.['status'] ?? {}) as Json;
    const results = rsp.results.map((r) => ({ severity: severityName(r.severity), message: r.message, ...(r.reason ? { reason: r.reason } : {}) }));
    const fatal = rsp.results.find((r) => r.severity === Severity.SEVERITY_FATAL);
    const rendered: RenderedClaim = { composite, resources, status, results, passes: pass, ...(fatal ? { fatal: fatal.message } : {}) };
    // A Fatal changes nothing in AWS: Crossplane applies no desired state from a failed pipeline.
    if (fatal || !opts.converge) return rendered;
    // Converged when a pass changes nothing: the previous pass already held the final state.
    const fingerprint = canonicalJson({ resources, status });
    if (previous !== undefined && fingerprint === previousFingerprint) {
      if (opts.deleteAfter) provider.deleteComposite();
      return previous;
    }
    previous = rendered;
    previousFingerprint = fingerprint;
    observed = provider.reconcile(resources);
  }
  throw new Error(`${claim.metadata.namespace}/${claim.metadata.name}: desired state still changing after ${maxPasses} passes`);
}
