// Shared by the protection and controls tests: render a claim through RunFunction until the desired
// state stops changing (the provider's status fed back each pass), or get the Fatal it answers.
import type { Claim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { FakeAccount, type AccountState } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { renderClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { environmentConfig, forProvider, inProcessClient, type Json } from '../lib/function-fixtures.js';

export interface Rendered {
  resources: Record<string, Json>;
  passes: number;
  fatal?: string;
}

/** The AWS account of the example environment, holding `state` (e.g. what an earlier claim left behind). */
export function accountHolding(state: AccountState = {}, environment: Json = environmentConfig()): FakeAccount {
  return new FakeAccount({ accountId: String((environment['data'] as Json)['accountId']), partition: 'aws' }, state);
}

/**
 * Renders `claim` pass after pass until nothing changes, like `render --converge`, against `account`
 * (a fresh one by default): what AWS already holds is observed before anything is managed.
 */
export async function render(claim: Claim, environment: Json = environmentConfig(), account: AccountState | FakeAccount = {}): Promise<Rendered> {
  const aws = account instanceof FakeAccount ? account : accountHolding(account, environment);
  const out = await renderClaim(inProcessClient, claim, { clusterObjects: [environment], converge: true, maxPasses: 8, account: aws });
  return out.fatal !== undefined ? { resources: {}, passes: out.passes, fatal: out.fatal } : { resources: out.resources, passes: out.passes };
}

/** Renders and insists on success. */
export async function renderOk(claim: Claim, environment?: Json, account?: AccountState | FakeAccount): Promise<Record<string, Json>> {
  const out = await render(claim, environment, account);
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
