// What a change to a claim does to access: both renders' access matrices (the same rows as
// `--explain-access`, from the IAM simulator), compared request by request, and the rendered
// resources compared by composition resource name.
import { canonicalJson, type Json } from '../../src/core/index.js';
import { explainMatrix, requestLabel, type MatrixRow } from './matrix.js';
import type { PolicySet } from './policy-set.js';

export interface AccessChange {
  principal: string;
  request: string;
  path: string;
  /** The statement that decides on the side where the request is allowed. */
  decidedBy: string;
}

export interface ResourceChange {
  name: string;
  kind: string;
  change: 'added' | 'removed' | 'changed';
  /** For 'changed': the fields that differ (at most a few). */
  fields: string[];
}

export interface ClaimDiff {
  claim: string;
  gains: AccessChange[];
  losses: AccessChange[];
  resources: ResourceChange[];
  /** Where change alerts go (`<rule> -> <topic>`), added and removed: a lost route silences an alert. */
  alerts: { added: string[]; removed: string[] };
  /** Requests evaluated on each side. */
  evaluated: { base: number; head: number };
}

const keyOf = (r: MatrixRow): string => `${r.principal.label}\u0000${requestLabel(r)}\u0000${r.path.id}`;

function allowedRows(rows: MatrixRow[]): Map<string, MatrixRow> {
  return new Map(rows.filter((r) => r.decision.allowed).map((r) => [keyOf(r), r]));
}

function changeOf(r: MatrixRow): AccessChange {
  return { principal: r.principal.label, request: requestLabel(r), path: r.path.id, decidedBy: r.decision.decidedBy };
}

/** Requests allowed on one side only. A request the other side never asks counts as denied there. */
export function compareMatrices(base: MatrixRow[], head: MatrixRow[]): { gains: AccessChange[]; losses: AccessChange[] } {
  const before = allowedRows(base);
  const after = allowedRows(head);
  return {
    gains: [...after].filter(([k]) => !before.has(k)).map(([, r]) => changeOf(r)),
    losses: [...before].filter(([k]) => !after.has(k)).map(([, r]) => changeOf(r)),
  };
}

/** Paths of the fields that differ between a and b, depth first, at most `limit`. */
export function differingFields(a: unknown, b: unknown, path = '', limit = 5, out: string[] = []): string[] {
  if (out.length >= limit || canonicalJson(a) === canonicalJson(b)) return out;
  const objects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
  if (!objects) {
    out.push(path || '(whole resource)');
    return out;
  }
  const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])];
  for (const k of keys) {
    const child = Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
    differingFields((a as Json)[k], (b as Json)[k], child, limit, out);
  }
  return out;
}

export function compareResources(base: Record<string, Json>, head: Record<string, Json>): ResourceChange[] {
  const names = [...new Set([...Object.keys(base), ...Object.keys(head)])].sort();
  const out: ResourceChange[] = [];
  for (const name of names) {
    const a = base[name];
    const b = head[name];
    const kind = String((b ?? a)?.['kind']);
    if (a === undefined) out.push({ name, kind, change: 'added', fields: [] });
    else if (b === undefined) out.push({ name, kind, change: 'removed', fields: [] });
    else {
      const fields = differingFields(a, b);
      if (fields.length > 0) out.push({ name, kind, change: 'changed', fields });
    }
  }
  return out;
}

/** Every EventBridge route a render sets up: `<rule> -> <topic>`, from its Target resources. */
export function alertRoutes(resources: Record<string, Json>): string[] {
  return Object.values(resources)
    .filter((r) => r['kind'] === 'Target')
    .map((r) => ((r['spec'] as Json | undefined)?.['forProvider'] ?? {}) as Json)
    .map((f) => `${String(f['rule'])} -> ${String(f['arn'])}`)
    .sort();
}

/** The diff of one claim; `undefined` on a side means the claim is added (no base) or deleted (no head). */
export async function diffClaim(claim: string, base: PolicySet | undefined, head: PolicySet | undefined): Promise<ClaimDiff> {
  const baseRows = base ? await explainMatrix(base) : [];
  const headRows = head ? await explainMatrix(head) : [];
  const resources = (set: PolicySet | undefined) => (set?.resources ?? {}) as unknown as Record<string, Json>;
  return {
    claim,
    ...compareMatrices(baseRows, headRows),
    resources: compareResources(resources(base), resources(head)),
    alerts: {
      added: alertRoutes(resources(head)).filter((r) => !alertRoutes(resources(base)).includes(r)),
      removed: alertRoutes(resources(base)).filter((r) => !alertRoutes(resources(head)).includes(r)),
    },
    evaluated: { base: baseRows.length, head: headRows.length },
  };
}
