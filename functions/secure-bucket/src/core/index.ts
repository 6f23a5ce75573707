// The core's one public entry: everything outside src/core (the gRPC adapter, render, explain,
// cdk8s/, bench/, tools/) imports from here, never from a module by deep path.
export { composeSecureBucket, type ComposeInput } from './compose.js';
export { readEnvironment } from './environment.js';
export { boundaryResources, nodeBoundaryDocument, nodeBoundaryName, policyPathAndName, tenantWorkloadBoundaryDocument } from './boundaries.js';
