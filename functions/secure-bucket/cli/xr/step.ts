// Which Composition step renders a request: a claim's XR gets the claim API's Composition, a v2 XR
// the v2 Composition's (compositions/composition-v2.yaml), each with its own input and declared
// requirements, as Crossplane would call the function for each.
import { functionInputFrom, stepRequirementsFrom } from '../composition.js';
import type { RenderOptions, Step } from '../control-plane/options.js';
import { isNamespacedXr, type BucketRequest } from './namespaced.js';

export type { Step };

/** Our step of `compositionFile`; a missing Composition is no step (the function's defaults apply, and it asks). */
export function stepFrom(compositionFile: string): Step {
  try {
    const input = functionInputFrom(compositionFile);
    return { requiredResources: stepRequirementsFrom(compositionFile), ...(input ? { input } : {}) };
  } catch {
    return { requiredResources: [] };
  }
}

/** The render options for `request`: the v2 step for a v2 XR when one is given. */
export function optionsFor(request: BucketRequest, opts: RenderOptions): RenderOptions {
  if (!isNamespacedXr(request) || opts.namespacedStep === undefined) return opts;
  const { input: _claimInput, ...rest } = opts;
  const step = opts.namespacedStep;
  return { ...rest, requiredResources: step.requiredResources, ...(step.input ? { input: step.input } : {}) };
}
