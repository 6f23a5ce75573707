// The simulated control plane, one entry: everything outside this folder (render, explain, bench,
// tools, tests) imports from here, never a module by deep path (tests/layout checks it).
export { connectFunction, DEFAULT_DEADLINE_MS, inProcessFunction, startLocalFunction } from './client.js';
export type { ConnectOptions, FunctionClient, LocalFunction } from './client.js';
export { asClaim, compositeForClaim, XR_API_VERSION } from './composite.js';
export type { Claim } from './composite.js';
export { converge, convergeSync, convergeWith, desiredOf, reconcileOnce, renderClaim, requestFor, suppliedObjects } from './converge.js';
export type { Pass, PassInput, Reconciled, RenderedClaim } from './converge.js';
export { convergeWithEngine, startFunctions } from './engine.js';
export type { EngineOptions, EnginePass, Functions } from './engine.js';
export { FakeAccount, FakeProvider, OWNER_ACCOUNT_KEY } from './fake-provider.js';
export type { Account, AccountState } from './fake-provider.js';
export type { RenderOptions, RequiredResourceSelector, Step } from './options.js';
