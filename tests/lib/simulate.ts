// Test-side entry to the policy simulator: the converged policies of an example claim, and the
// evaluation model of functions/secure-bucket/cli/explain/simulate.ts (documented there). Tests
// state their expectations themselves; they only borrow the machinery that asks the simulator.
import { compositeForClaim, type Claim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { convergedPolicySet, policySetOf, type PolicySet } from '../../functions/secure-bucket/cli/explain/policy-set.js';
import type { ManagedResource, ObservedResource, RenderOutput } from '../../functions/secure-bucket/src/core/index.js';
import { namespacedXrFor } from '../../functions/secure-bucket/cli/xr/namespaced.js';
import {
  desiredResources,
  desiredStatus,
  environmentConfig,
  exampleClaims,
  podIdentityDedicatedEndpoint,
  renderPasses,
  type Json,
  type PassOptions,
} from './function-fixtures.js';

export * from '../../functions/secure-bucket/cli/explain/simulate.js';
export type { ConsumerPolicies, PolicyJson, PolicySet } from '../../functions/secure-bucket/cli/explain/policy-set.js';

export type EnvironmentVariant = 'irsa-shared-endpoint' | 'pod-identity-dedicated-endpoint';

export function environmentData(variant: EnvironmentVariant = 'irsa-shared-endpoint'): Json {
  const env = environmentConfig(variant === 'irsa-shared-endpoint' ? () => {} : podIdentityDedicatedEndpoint);
  return env['data'] as Json;
}

/** The policies AWS ends up with for `claim` (rendered until the key ARN and endpoint are known). */
export function policySetFor(claim: Claim, variant: EnvironmentVariant = 'irsa-shared-endpoint'): PolicySet {
  return convergedPolicySet(compositeForClaim(claim), environmentData(variant));
}

/**
 * The policies AWS ends up with for a request (a claim, or a v2 XSecureBucket) rendered through the
 * function itself, in its resource family, converged, and read back like policySetFor's.
 */
export async function renderedPolicySetFor(
  request: Claim,
  variant: EnvironmentVariant = 'irsa-shared-endpoint',
  options: PassOptions = {},
): Promise<PolicySet> {
  const env = environmentConfig(variant === 'irsa-shared-endpoint' ? () => {} : podIdentityDedicatedEndpoint);
  const { converged, observedAtConverged, composite } = await renderPasses(request, env, options);
  const observed = Object.fromEntries(Object.entries(observedAtConverged).map(([name, resource]) => [name, { resource } as ObservedResource]));
  const out = {
    resources: desiredResources(converged) as unknown as Record<string, ManagedResource>,
    status: desiredStatus(converged),
    notes: [],
    warnings: [],
  } as unknown as RenderOutput;
  return policySetOf({ composite, environmentData: env['data'], observed }, out);
}

/** The policies of `claim`'s request made a v2 XSecureBucket (the namespaced family). */
export function namespacedPolicySetFor(claim: Claim, variant: EnvironmentVariant = 'irsa-shared-endpoint', options: PassOptions = {}): Promise<PolicySet> {
  return renderedPolicySetFor(namespacedXrFor(claim), variant, options);
}

export function examplePolicySets(variant: EnvironmentVariant = 'irsa-shared-endpoint'): Array<{ file: string; claim: Claim; set: PolicySet }> {
  return exampleClaims().map(({ file, claim }) => ({ file, claim, set: policySetFor(claim, variant) }));
}

/** Every bucket the example claims create, replicas included, each with its own policy and key. */
export function exampleBucketSets(variant: EnvironmentVariant = 'irsa-shared-endpoint'): Array<{ file: string; claim: Claim; set: PolicySet }> {
  return examplePolicySets(variant).flatMap((x) =>
    x.set.replica ? [x, { ...x, file: `${x.file} (replica in ${x.set.replica.region})`, set: x.set.replica }] : [x],
  );
}

/** A policy allowing `actions` on everything: the worst-case IAM policy of an outsider. */
export function allowAll(name: string, actions: string[]): { name: string; policy: { Version: string; Statement: Array<Record<string, unknown>> } } {
  return { name, policy: { Version: '2012-10-17', Statement: [{ Sid: name, Effect: 'Allow', Action: actions, Resource: '*' }] } };
}
