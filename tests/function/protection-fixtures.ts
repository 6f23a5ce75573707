// Shared by the protection and controls tests: render a claim through RunFunction until the desired
// state stops changing (the provider's status fed back each pass), or get the Fatal it answers.
import { compositeForClaim, type Claim } from '../../functions/secure-bucket/src/render/composite.js';
import { observeAll } from '../../functions/secure-bucket/src/render/fake-provider.js';
import { canonicalJson } from '../../functions/secure-bucket/src/core/policy.js';
import { call, desiredResources, desiredStatus, environmentConfig, fatalOf, forProvider, type Json } from '../lib/function-fixtures.js';

export interface Rendered {
  resources: Record<string, Json>;
  passes: number;
  fatal?: string;
}

/**
 * Renders `claim` pass after pass. `observedOverride` stands for what AWS already holds (merged over
 * what the fake provider reports), e.g. a bucket created with object lock by an earlier claim.
 */
export async function render(claim: Claim, environment: Json = environmentConfig(), observedOverride: Record<string, Json> = {}): Promise<Rendered> {
  const composite = compositeForClaim(claim);
  const account = { accountId: String((environment['data'] as Json)['accountId']), partition: 'aws' };
  let observed: Record<string, Json> = { ...observedOverride };
  let status: Json = {};
  let previous = '';
  for (let pass = 1; pass <= 6; pass++) {
    const rsp = await call({ composite: { ...composite, status }, environment, observed });
    const fatal = fatalOf(rsp);
    if (fatal !== undefined) return { resources: {}, passes: pass, fatal };
    const resources = desiredResources(rsp);
    const now = canonicalJson(resources);
    if (now === previous) return { resources, passes: pass - 1 };
    previous = now;
    status = desiredStatus(rsp);
    observed = { ...observeAll(resources, account), ...observedOverride };
  }
  throw new Error(`${claim.metadata.name}: no convergence in 6 passes`);
}

/** Renders and insists on success. */
export async function renderOk(claim: Claim, environment?: Json, observedOverride?: Record<string, Json>): Promise<Record<string, Json>> {
  const out = await render(claim, environment, observedOverride);
  if (out.fatal !== undefined) throw new Error(`unexpected Fatal: ${out.fatal}`);
  return out.resources;
}

export function fp(resources: Record<string, Json>, name: string): Json {
  const r = resources[name];
  if (r === undefined) throw new Error(`no rendered resource '${name}' (have: ${Object.keys(resources).join(', ')})`);
  return forProvider(r);
}

export function kindsOf(resources: Record<string, Json>): string[] {
  return Object.values(resources).map((r) => String(r['kind']));
}

export interface PolicyStatement {
  Sid: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export function statementsOf(policyJson: unknown): PolicyStatement[] {
  return (JSON.parse(String(policyJson)) as { Statement: PolicyStatement[] }).Statement;
}

export function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}
