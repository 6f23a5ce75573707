// The platform API's names: one home for the function, the render CLI, cdk8s and the tools.
export const PLATFORM_API_VERSION = 'platform.example.org/v1alpha1';
export const CLAIM_KIND = 'XSecureBucketClaim';
export const COMPOSITE_KIND = 'XSecureBucket';
export const ENVIRONMENT_CONFIG_API_VERSION = 'apiextensions.crossplane.io/v1beta1';
/** The EnvironmentConfig the function asks for when the Composition's step input names none. */
export const DEFAULT_ENVIRONMENT_CONFIG = 'secure-bucket-platform';
/** The v2 API: a namespaced XR with no claim (compositions/definition-v2.yaml) and its Composition. */
export const NAMESPACED_XR_API_VERSION = 'storage.platform.example.org/v1alpha1';
export const NAMESPACED_XR_KIND = 'XSecureBucket';
export const NAMESPACED_COMPOSITION = 'secure-bucket-v2';
/**
 * The two APIs a bucket can be requested through, as kind.group: a claim and a v2 XR of the same
 * namespace and name render the same AWS names, so what AWS holds says which of the two owns it.
 */
export const CLAIM_API = `${CLAIM_KIND}.${PLATFORM_API_VERSION.split('/')[0]}`;
export const NAMESPACED_XR_API = `${NAMESPACED_XR_KIND}.${NAMESPACED_XR_API_VERSION.split('/')[0]}`;
export type BucketApi = typeof CLAIM_API | typeof NAMESPACED_XR_API;
/** The annotation with which a request takes over what the other API's request of its name left in AWS. */
export const TAKE_OVER_ANNOTATION = 'platform.example.org/take-over-from';
