// Drives a running function the way a Crossplane control plane does for one claim: it sends
// RunFunctionRequests over gRPC, answers the function's resource requirements, and (converging)
// feeds back provider status pass after pass until the desired state stops changing.
import { RunFunctionRequest, Severity, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import type { FunctionClient } from './client.js';
import { canonicalJson } from '../../src/core/policy.js';
import { isObject, type Json } from '../../src/core/fields.js';
import { compositeForClaim, type Claim } from './composite.js';
import { FakeAccount } from './fake-provider.js';

export interface RenderOptions {
  /** Objects the "cluster" holds for the function's requirements (e.g. the EnvironmentConfig). */
  clusterObjects: Json[];
  /** The function step's input from the Composition. */
  input?: Json;
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

/** Crossplane resolves requirements at most this many times per reconcile. */
const MAX_REQUIREMENT_ROUNDS = 5;

function selects(selector: { apiVersion: string; kind: string; matchName?: string; matchLabels?: { labels: Record<string, string> } }, obj: Json): boolean {
  if (obj['apiVersion'] !== selector.apiVersion || obj['kind'] !== selector.kind) return false;
  const metadata = isObject(obj['metadata']) ? obj['metadata'] : {};
  if (selector.matchName !== undefined) return metadata['name'] === selector.matchName;
  const labels = isObject(metadata['labels']) ? metadata['labels'] : {};
  return Object.entries(selector.matchLabels?.labels ?? {}).every(([k, v]) => labels[k] === v);
}

async function reconcileOnce(client: FunctionClient, base: Json, opts: RenderOptions): Promise<RunFunctionResponse> {
  const supplied: Record<string, { items: Array<{ resource: Json; connectionDetails: Record<string, never>; ready: number }> }> = {};
  let rsp: RunFunctionResponse | undefined;
  for (let round = 0; round < MAX_REQUIREMENT_ROUNDS; round++) {
    const req = RunFunctionRequest.fromPartial({ ...base, requiredResources: supplied });
    rsp = await client.runFunction(req);
    const wanted = rsp.requirements?.resources ?? {};
    const missing = Object.keys(wanted).filter((k) => !(k in supplied));
    if (missing.length === 0) return rsp;
    for (const key of missing) {
      const selector = wanted[key]!;
      supplied[key] = { items: opts.clusterObjects.filter((o) => selects(selector, o)).map((resource) => ({ resource, connectionDetails: {}, ready: 0 })) };
    }
  }
  return rsp as RunFunctionResponse;
}

function severityName(s: Severity): string {
  return s === Severity.SEVERITY_FATAL ? 'Fatal' : s === Severity.SEVERITY_WARNING ? 'Warning' : 'Normal';
}

export async function renderClaim(client: FunctionClient, claim: Claim, opts: RenderOptions): Promise<RenderedClaim> {
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
