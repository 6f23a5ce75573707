// What render reads from the Composition: our step's input and the resources it declares, so
// the function gets the same request from render as from Crossplane.
import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { isObject, type Json } from '../src/core/index.js';
import type { RequiredResourceSelector } from './control-plane/options.js';

/** Our step of the Composition's pipeline, so render feeds the function what Crossplane does. */
function secureBucketStep(compositionFile: string): Json | undefined {
  for (const doc of loadAll(readFileSync(compositionFile, 'utf8'))) {
    const pipeline = isObject(doc) && isObject(doc['spec']) ? doc['spec']['pipeline'] : undefined;
    if (!Array.isArray(pipeline)) continue;
    const step = pipeline.find((s) => isObject(s) && isObject(s['functionRef']) && s['functionRef']['name'] === 'function-secure-bucket');
    if (isObject(step)) return step;
  }
  return undefined;
}

/** The input our step gets in the Composition. */
export function functionInputFrom(compositionFile: string): Json | undefined {
  const input = secureBucketStep(compositionFile)?.['input'];
  return isObject(input) ? input : undefined;
}

/** What our step declares in requirements.requiredResources: Crossplane supplies it before the first call. */
export function stepRequirementsFrom(compositionFile: string): RequiredResourceSelector[] {
  const requirements = secureBucketStep(compositionFile)?.['requirements'];
  const declared = isObject(requirements) ? requirements['requiredResources'] : undefined;
  return Array.isArray(declared) ? (declared.filter(isObject) as unknown as RequiredResourceSelector[]) : [];
}
