// The core's one public entry: everything outside src/core (the gRPC adapter, the render CLI,
// explain, cdk8s/, bench/, tools/, the tests) imports from here, never a module by deep path.
// What is exported here is the core's contract; the rest is free to change.
export {
  CLAIM_API,
  CLAIM_KIND,
  COMPOSITE_KIND,
  NAMESPACED_XR_API,
  TAKE_OVER_ANNOTATION,
  DEFAULT_ENVIRONMENT_CONFIG,
  ENVIRONMENT_CONFIG_API_VERSION,
  NAMESPACED_COMPOSITION,
  NAMESPACED_XR_API_VERSION,
  NAMESPACED_XR_KIND,
  PLATFORM_API_VERSION,
} from './api.js';
export { EXTERNAL_NAME, OBSERVE_ONLY, externalNameOf } from './adoption.js';
export { CIS_BUCKET_POLICY_CHANGE_EVENTS, EMAIL_SUBSCRIPTION } from './alarms.js';
export {
  BOUNDARIES_GENERATOR,
  BOUNDED_ROLE_CHANGES,
  boundaryResources,
  NEVER_ON_ROLES,
  providerRolePolicyDocument,
  nodeBoundaryDocument,
  nodeBoundaryName,
  policyPathAndName,
  tenantWorkloadBoundaryDocument,
} from './boundaries.js';
export { ACCESS_LEVELS, CROSSPLANE_SPEC_FIELDS, readIdentity, readSpec, validateSpec } from './claim.js';
export { composeSecureBucket, OTHER_REQUEST, OTHER_REQUEST_COMPOSITE, PREDECESSOR_PREFIX } from './compose.js';
export type { ComposeInput } from './compose.js';
export { buildContext } from './context.js';
export { CLUSTER_PROVIDER_CONFIG, inFamilyOf, keepsExternalOnDelete, namespacedResource, ORPHAN_POLICIES } from './family.js';
export { s3ViaService } from './encryption.js';
export { readEnvironment } from './environment.js';
export { arrayAt, integerAt, isObject, objectAt, requiredString } from './fields.js';
export type { Json } from './fields.js';
export { NONCURRENT_VERSION_DEFAULT_DAYS } from './lifecycle.js';
export {
  accessPointArn,
  accessPointName,
  accountRootArn,
  bucketName,
  CLUSTER_TAG,
  consumerRoleArn,
  INSTALLATION_REGION_TAG,
  INSTALLATION_TAG,
  installationOf,
  MANAGED_BY,
  MANAGED_BY_TAG,
  OWNER_API_TAG,
  ownerLabels,
  shortHash,
} from './naming.js';
export { awsManagedReadBuckets, endpointPolicy } from './network.js';
export { governanceBypassStatement } from './object-lock.js';
export { REPLICA_PARTS } from './owned-bucket.js';
export { canonicalJson, renderPolicy } from './policy.js';
export { versioningRequired } from './protection.js';
export { REPLICATION_ACTIONS } from './replication.js';
export { COMPONENT_LABEL } from './resources.js';
export { ClaimError, ClaimErrors, PlatformError, Refusal, StepInputError } from './types.js';
export type { FixedBy } from './types.js';
export { CLAIM_FIELDS, ENUMS, limitsOf } from './claim-api.generated.js';
export type { ClaimField, ClaimSpec } from './claim-api.generated.js';
export { MINIMUM_AGE, MINIMUM_STAY, RESERVED_RULE_IDS, WATERFALL } from './spec-rules.js';
export type { BucketApi } from './api.js';
export type { ObjectQuery, OtherRequest } from './types.js';
export type {
  AccessLevel,
  Alarms,
  BucketSpec,
  StorageClass,
  ClaimIdentity,
  CompositeStatus,
  Consumer,
  IdentityMode,
  Lifecycle,
  LifecycleRule,
  ManagedNames,
  ManagedResource,
  ObjectLock,
  ObservedResource,
  PlatformEnvironment,
  RenderOutput,
  Transition,
} from './types.js';
export { apiVersionOf, groupIn, kindOf, MANAGED_KINDS } from './kinds.js';
export type { Family, KindName, ManagedKind } from './kinds.js';
