// Entry point of `render --explain-access`: loaded with a dynamic import() only when the flag is
// given, because it pulls in @cloud-copilot/iam-simulate (AGPL, devDependency, never in the image).
import type { Json } from '../core/fields.js';
import { lintPolicySet } from './lint.js';
import { explainKeyMatrix, explainMatrix, formatKeyMatrix, formatMatrix } from './matrix.js';
import { convergedPolicySet } from './policy-set.js';

/** The printed access matrix of one claim's XR; throws if any emitted policy fails the lint. */
export async function explainAccess(composite: Json, environmentData: unknown): Promise<string> {
  const set = convergedPolicySet(composite, environmentData);
  const findings = await lintPolicySet(set);
  if (findings.length > 0) {
    // The simulator ignores what it does not know: judging an unlinted policy would mislead.
    throw new Error(`policy lint failed:\n${findings.map((f) => `  ${f.policy} ${f.sid ?? ''}: ${f.problem}`).join('\n')}`);
  }
  const started = Date.now();
  const parts: string[] = [];
  let requests = 0;
  // The source and its replica, each with its own key: every copy of the data is reviewed alike.
  for (const bucket of set.replica ? [set, set.replica] : [set]) {
    const rows = await explainMatrix(bucket);
    const keyRows = await explainKeyMatrix(bucket);
    requests += rows.length + keyRows.length;
    parts.push(formatMatrix(bucket, rows), formatKeyMatrix(bucket, keyRows));
  }
  const ms = Date.now() - started;
  return `${parts.join('\n\n')}\n\n${requests} requests evaluated in ${ms} ms\n`;
}
