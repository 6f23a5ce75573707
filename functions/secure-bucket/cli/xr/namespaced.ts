// The v2 API's namespaced XSecureBucket (compositions/definition-v2.yaml) as render and the tests
// see it: a tenant's request that is its own XR, so Crossplane hands it to the function as it is,
// with no claim hop, no claim labels and no generated name. The function tells it from a claim's
// XR by its metadata.namespace (core/family.ts) and names its AWS resources after its namespace
// and name, exactly as for a claim of the same namespace and name.
import { CROSSPLANE_SPEC_FIELDS, isObject, type Json, NAMESPACED_COMPOSITION, NAMESPACED_XR_API_VERSION, NAMESPACED_XR_KIND } from '../../src/core/index.js';

export { NAMESPACED_COMPOSITION, NAMESPACED_XR_API_VERSION, NAMESPACED_XR_KIND } from '../../src/core/index.js';

/** A tenant's bucket request: a claim, or a v2 XR (render/composite.ts reads both into this). */
export interface BucketRequest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
  spec: Json;
}

export function isNamespacedXrDocument(doc: unknown): boolean {
  return isObject(doc) && doc['kind'] === NAMESPACED_XR_KIND && doc['apiVersion'] === NAMESPACED_XR_API_VERSION;
}

export function isNamespacedXr(request: Pick<BucketRequest, 'apiVersion' | 'kind'>): boolean {
  return request.kind === NAMESPACED_XR_KIND && request.apiVersion === NAMESPACED_XR_API_VERSION;
}

/** The request's annotations, when it has any (Crossplane copies a claim's onto its XR). */
export function annotationsOf(request: BucketRequest): { annotations?: Record<string, string> } {
  return request.metadata.annotations !== undefined ? { annotations: { ...request.metadata.annotations } } : {};
}

/** The XR as Crossplane v2 sends it to the function: the object itself, its Composition in spec.crossplane. */
export function namespacedComposite(xr: BucketRequest): Json {
  const crossplane = isObject(xr.spec['crossplane']) ? xr.spec['crossplane'] : {};
  return {
    apiVersion: NAMESPACED_XR_API_VERSION,
    kind: NAMESPACED_XR_KIND,
    metadata: { name: xr.metadata.name, namespace: xr.metadata.namespace, labels: { 'crossplane.io/composite': xr.metadata.name }, ...annotationsOf(xr) },
    spec: { ...xr.spec, crossplane: { ...crossplane, compositionRef: { name: NAMESPACED_COMPOSITION } } },
  };
}

/**
 * The same request as a v2 XR: same namespace, same name (the AWS names depend on both), the
 * tenant's spec without the fields Crossplane adds (a v2 XR's Composition is its own).
 */
export function namespacedXrFor(claim: BucketRequest): BucketRequest {
  const spec = Object.fromEntries(Object.entries(claim.spec).filter(([k]) => !CROSSPLANE_SPEC_FIELDS.includes(k)));
  return {
    apiVersion: NAMESPACED_XR_API_VERSION,
    kind: NAMESPACED_XR_KIND,
    metadata: { name: claim.metadata.name, namespace: claim.metadata.namespace },
    spec,
  };
}
