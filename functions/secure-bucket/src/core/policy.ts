// Typed IAM policy documents and their canonical JSON. The provider compares the policy string it
// reads back from AWS with ours: any difference in key order, statement order or list order makes it
// re-apply the policy on every reconcile, so the serialisation below is the only one we emit.

export type ConditionOperator =
  | 'Bool'
  | 'Null'
  | 'StringEquals'
  | 'StringNotEquals'
  | 'StringLike'
  | 'StringNotEqualsIfExists'
  | 'StringEqualsIfExists'
  | 'NumericLessThan'
  | 'ArnEquals'
  | 'ArnLike'
  | 'ArnNotLike'
  | 'ArnNotEquals'
  // aws:TagKeys is multi-valued: only a set operator reads it right.
  | 'ForAnyValue:StringEquals';

/** Operator -> condition key -> values. Several operators in one block are ANDed. */
export type Conditions = Partial<Record<ConditionOperator, Record<string, string | string[]>>>;

export type Principal = '*' | { AWS?: string | string[]; Service?: string | string[]; Federated?: string };

export interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Principal;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Conditions;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

export function policy(statements: Statement[]): PolicyDocument {
  const sids = new Set<string>();
  for (const s of statements) {
    if (sids.has(s.Sid)) throw new Error(`duplicate statement id ${s.Sid}`);
    sids.add(s.Sid);
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** One value stays a string (as AWS returns it); several are sorted and de-duplicated. */
function normaliseList(value: string | string[]): string | string[] {
  if (typeof value === 'string') return value;
  if (value.length === 1) return value[0] as string;
  // Most lists are built sorted already: check before paying for a Set and a sort.
  let ordered = true;
  for (let i = 1; ordered && i < value.length; i++) ordered = (value[i - 1] as string) < (value[i] as string);
  if (ordered) return value.slice();
  const unique = [...new Set(value)].sort();
  return unique.length === 1 ? (unique[0] as string) : unique;
}

function normalisePrincipal(p: Principal): Principal {
  if (p === '*') return p;
  const out: { AWS?: string | string[]; Service?: string | string[]; Federated?: string } = {};
  if (p.AWS !== undefined) out.AWS = normaliseList(p.AWS);
  if (p.Federated !== undefined) out.Federated = p.Federated;
  if (p.Service !== undefined) out.Service = normaliseList(p.Service);
  return out;
}

/**
 * Keys are inserted in sorted order (Action, Condition, Effect, Principal, Resource, Sid; AWS,
 * Federated, Service), so plain JSON.stringify is already canonical: renderPolicy skips the
 * generic sortKeys pass, which was a third of the render's CPU time in the bench profile.
 */
function normaliseStatement(s: Statement): Statement {
  const out = { Action: normaliseList(s.Action) } as Statement;
  if (s.Condition !== undefined) {
    const cond: Conditions = {};
    for (const op of Object.keys(s.Condition).sort() as ConditionOperator[]) {
      const keys = s.Condition[op] ?? {};
      const block: Record<string, string | string[]> = {};
      for (const key of Object.keys(keys).sort()) block[key] = normaliseList(keys[key] as string | string[]);
      cond[op] = block;
    }
    out.Condition = cond;
  }
  out.Effect = s.Effect;
  if (s.Principal !== undefined) out.Principal = normalisePrincipal(s.Principal);
  if (s.Resource !== undefined) out.Resource = normaliseList(s.Resource);
  out.Sid = s.Sid;
  return out;
}

/** JSON with recursively sorted keys: the same document always serialises to the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** The order localeCompare gives, without building a collator per comparison. */
const bySid = new Intl.Collator().compare;

/** Statements ordered by Sid, lists sorted, keys sorted: the one serialisation we emit. */
export function renderPolicy(doc: PolicyDocument): string {
  const statements = doc.Statement.map(normaliseStatement).sort((a, b) => bySid(a.Sid, b.Sid));
  // Equal to canonicalJson of the same document (the statements' keys are already sorted).
  return JSON.stringify({ Statement: statements, Version: doc.Version });
}
