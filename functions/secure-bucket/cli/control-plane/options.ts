// The options of a simulated render and the Composition step shapes they carry: a leaf, so the
// control plane, the step reader and the Composition reader share them without an import circle.
import type { Json } from '../../src/core/index.js';
import type { FakeAccount } from './fake-provider.js';

/** One entry of a Composition step's requirements.requiredResources (Composition CRD, v1). */
export interface RequiredResourceSelector {
  requirementName: string;
  apiVersion: string;
  kind: string;
  name?: string;
  matchLabels?: Record<string, string>;
}

/** One Composition step of our function: its input and declared requirements. */
export interface Step {
  input?: Json;
  requiredResources: RequiredResourceSelector[];
}

export interface RenderOptions {
  /** Objects the "cluster" holds for the function's requirements (e.g. the EnvironmentConfig). */
  clusterObjects: Json[];
  /** The function step's input from the Composition. */
  input?: Json;
  /** The step's requirements.requiredResources: supplied before the first call, as Crossplane does. */
  requiredResources?: RequiredResourceSelector[];
  /** The v2 Composition's step, for v2 XSecureBuckets (xr/step.ts); without it they get the fields above. */
  namespacedStep?: Step;
  converge?: boolean;
  maxPasses?: number;
  /** The AWS account the fake provider reconciles against (default: a fresh, empty one). */
  account?: FakeAccount;
  /** After converging, delete the claim as Crossplane would: AWS keeps only what is Orphan. */
  deleteAfter?: boolean;
  /** RunFunctionRequest meta.tag (default: render-pass-N). */
  tag?: string;
  /** Seeds the ids AWS assigns (key ids, endpoint ids); default: the XR's name. */
  idSeed?: string;
}
