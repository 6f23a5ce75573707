// render --migrate: the namespaced v2 XSecureBucket that takes over a claim's AWS resources. It
// keeps the claim's namespace and name: every AWS name derives from those two (core/naming.ts),
// and the ownership tags the adoption guard checks (core/adoption.ts guardOwnership) name them.
// The steps around it (pause, Orphan, delete the claim, apply, unpause): docs/migrate-to-v2.md.
import { dump } from 'js-yaml';
import { CLAIM_API, TAKE_OVER_ANNOTATION, type Json } from '../../src/core/index.js';
import type { LoadedClaims } from '../inputs.js';
import { write } from '../output.js';
import { isNamespacedXr, namespacedXrFor, type BucketRequest } from './namespaced.js';

/**
 * The XR, annotated to take over what the claim left: without it the function refuses a bucket the
 * claim's tags name, because while both live both would manage it.
 */
export function migratedXrDocument(claim: BucketRequest): Json {
  const xr = namespacedXrFor(claim);
  const annotations = { ...xr.metadata.annotations, [TAKE_OVER_ANNOTATION]: CLAIM_API };
  return { apiVersion: xr.apiVersion, kind: xr.kind, metadata: { ...xr.metadata, annotations }, spec: xr.spec };
}

/** The XR as YAML with a header naming the claim it replaces and the guide. */
export function migratedXrYaml(claim: BucketRequest, file: string): string {
  const header = [
    `# Replaces XSecureBucketClaim ${claim.metadata.namespace}/${claim.metadata.name} (${file}): same namespace and name, so`,
    '# every AWS name stays. Apply it only after the steps in docs/migrate-to-v2.md (pause, Orphan, delete the claim).',
  ].join('\n');
  return `${header}\n---\n${dump(migratedXrDocument(claim), { lineWidth: -1, noRefs: true })}`;
}

/** render --migrate: one XR per claim on stdout; a v2 XR given is refused (it has nothing to migrate). */
export async function printMigrated(loaded: LoadedClaims): Promise<number> {
  let failed = loaded.errors.length > 0;
  for (const { claim, file } of loaded.claims) {
    if (isNamespacedXr(claim)) {
      process.stderr.write(`error: ${file}: ${claim.metadata.namespace}/${claim.metadata.name} is already a v2 XSecureBucket\n`);
      failed = true;
      continue;
    }
    await write(migratedXrYaml(claim, file));
  }
  return failed ? 1 : 0;
}
