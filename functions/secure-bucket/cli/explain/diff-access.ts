// Entry point of `render --diff-access BASE HEAD`: loaded on demand (it pulls in the AGPL
// simulator). Claims are paired by namespace/name across the two sides; a claim only in HEAD is
// all gains, only in BASE all losses.
import { compositeForClaim } from '../control-plane/composite.js';
import { claimId, loadClaims, type LoadedClaim } from '../inputs.js';
import { diffClaim, type ClaimDiff } from './access-diff.js';
import { formatDiffMarkdown } from './diff-report.js';
import { lintPolicySet } from './lint.js';
import { convergedPolicySet, type PolicySet } from './policy-set.js';

export interface DiffAccessResult {
  markdown: string;
  diffs: ClaimDiff[];
  errors: string[];
}

async function policySetOf(loaded: LoadedClaim | undefined, environmentData: unknown): Promise<PolicySet | undefined> {
  if (loaded === undefined) return undefined;
  const set = convergedPolicySet(compositeForClaim(loaded.claim), environmentData);
  const findings = await lintPolicySet(set);
  if (findings.length > 0) throw new Error(`policy lint failed: ${findings.map((f) => `${f.policy} ${f.sid ?? ''}: ${f.problem}`).join('; ')}`);
  return set;
}

function byId(claims: LoadedClaim[]): Map<string, LoadedClaim> {
  return new Map(claims.map((c) => [claimId(c.claim), c]));
}

export async function diffAccess(base: string[], head: string[], environmentData: unknown): Promise<DiffAccessResult> {
  const b = loadClaims(base);
  const h = loadClaims(head);
  const errors = [...b.errors.map((e) => `base: ${e.message}`), ...h.errors.map((e) => `head: ${e.message}`)];
  const before = byId(b.claims);
  const after = byId(h.claims);
  const diffs: ClaimDiff[] = [];
  for (const id of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    try {
      const diff = await diffClaim(id, await policySetOf(before.get(id), environmentData), await policySetOf(after.get(id), environmentData));
      if (diff.gains.length + diff.losses.length + diff.resources.length + diff.alerts.added.length + diff.alerts.removed.length > 0) diffs.push(diff);
    } catch (err) {
      errors.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { markdown: formatDiffMarkdown(diffs), diffs, errors };
}

