// What Crossplane does with a claim before our function sees it: it creates a cluster-scoped XR
// with the claim's spec, labels naming the claim, and a claimRef. A v2 XSecureBucket is its own XR.
import { createHash } from 'node:crypto';
import { CLAIM_KIND, COMPOSITE_KIND, isObject, type Json, PLATFORM_API_VERSION as XR_API_VERSION } from '../../src/core/index.js';
import {
  annotationsOf,
  isNamespacedXr,
  isNamespacedXrDocument,
  namespacedComposite,
  NAMESPACED_XR_API_VERSION,
  NAMESPACED_XR_KIND,
  type BucketRequest,
} from '../xr/namespaced.js';

export { PLATFORM_API_VERSION as XR_API_VERSION } from '../../src/core/index.js';

/** A claim, or a namespaced v2 XSecureBucket (xr/namespaced.ts). */
export type Claim = BucketRequest;

/** Checks the envelope of a claim file; the spec itself is the function's to judge. */
export function asClaim(doc: unknown, source: string): Claim {
  if (!isObject(doc)) throw new Error(`${source}: not a YAML mapping`);
  const v2 = isNamespacedXrDocument(doc);
  if (doc['kind'] !== CLAIM_KIND && !v2)
    throw new Error(
      `${source}: kind is ${String(doc['kind'])}, expected ${CLAIM_KIND} (${XR_API_VERSION}) or ${NAMESPACED_XR_KIND} (${NAMESPACED_XR_API_VERSION})`,
    );
  if (!v2 && doc['apiVersion'] !== XR_API_VERSION) throw new Error(`${source}: apiVersion must be ${XR_API_VERSION}`);
  const metadata = isObject(doc['metadata']) ? doc['metadata'] : {};
  const name = metadata['name'];
  const namespace = metadata['namespace'];
  if (typeof name !== 'string' || name === '') throw new Error(`${source}: metadata.name is required`);
  if (typeof namespace !== 'string' || namespace === '') {
    throw new Error(`${source}: metadata.namespace is required (a claim always lives in its team's namespace)`);
  }
  const spec = isObject(doc['spec']) ? doc['spec'] : {};
  // Annotations travel as they are: the function reads the ones it knows and judges them.
  const annotations = isObject(metadata['annotations']) ? { annotations: metadata['annotations'] as Record<string, string> } : {};
  if (v2) return { apiVersion: NAMESPACED_XR_API_VERSION, kind: NAMESPACED_XR_KIND, metadata: { name, namespace, ...annotations }, spec };
  return { apiVersion: XR_API_VERSION, kind: CLAIM_KIND, metadata: { name, namespace, ...annotations }, spec };
}

/** The XR Crossplane would create for `claim` (its random name suffix made deterministic). */
export function compositeForClaim(claim: Claim): Json {
  if (isNamespacedXr(claim)) return namespacedComposite(claim); // a v2 XR is its own XR
  const suffix = createHash('sha256').update(`${claim.metadata.namespace}/${claim.metadata.name}`).digest('hex').slice(0, 5);
  const name = `${claim.metadata.name}-${suffix}`;
  return {
    apiVersion: XR_API_VERSION,
    kind: COMPOSITE_KIND,
    metadata: {
      name,
      ...annotationsOf(claim),
      labels: {
        'crossplane.io/claim-name': claim.metadata.name,
        'crossplane.io/claim-namespace': claim.metadata.namespace,
        'crossplane.io/composite': name,
      },
    },
    spec: {
      ...claim.spec,
      claimRef: { apiVersion: XR_API_VERSION, kind: CLAIM_KIND, name: claim.metadata.name, namespace: claim.metadata.namespace },
      compositionRef: { name: 'secure-bucket' },
    },
  };
}
