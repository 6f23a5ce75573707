// Entry point of `render --diff-access BASE HEAD`: loaded on demand (it pulls in the AGPL
// simulator). Requests are paired by apiVersion group, kind, namespace and name across the two
// sides (a claim and a v2 XR of one name are two buckets); one only in HEAD is all gains, only in
// BASE all losses.
import { compositeForClaim } from '../control-plane/index.js';
import { claimId, loadClaims, type LoadedClaim } from '../inputs.js';
import { isNamespacedXr } from '../xr/namespaced.js';
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

/** `ns/name` for a claim (as before v2), `ns/name (Kind group)` for any other kind. */
function labelOf(c: LoadedClaim): string {
  return isNamespacedXr(c.claim) ? `${claimId(c.claim)} (${c.claim.kind} ${c.claim.apiVersion.split('/')[0]})` : claimId(c.claim);
}

/** By label; a second request with one label is an error (a Map would keep the last one silently). */
function byId(claims: LoadedClaim[], side: string, errors: string[]): Map<string, LoadedClaim> {
  const out = new Map<string, LoadedClaim>();
  for (const c of claims) {
    const id = labelOf(c);
    const other = out.get(id);
    if (other !== undefined) errors.push(`${side}: ${id} is in ${other.file} and in ${c.file}: only one can exist`);
    else out.set(id, c);
  }
  return out;
}

export async function diffAccess(base: string[], head: string[], environmentData: unknown): Promise<DiffAccessResult> {
  const b = loadClaims(base);
  const h = loadClaims(head);
  const errors = [...b.errors.map((e) => `base: ${e.message}`), ...h.errors.map((e) => `head: ${e.message}`)];
  const before = byId(b.claims, 'base', errors);
  const after = byId(h.claims, 'head', errors);
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
