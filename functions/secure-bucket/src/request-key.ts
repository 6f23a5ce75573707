// What identifies a request for the response cache. Between two polls Crossplane's request can
// change in fields our function never reads: the API server's bookkeeping on every object it
// sends (resourceVersion, managedFields, generation, creationTimestamp), condition timestamps, and
// the conditions Crossplane itself writes on the XR (Ready Creating -> Available with its
// "Unready resources: ..." message, Synced, Responsive, claimConditionTypes: seen changing from
// pass to pass with the real engine, `crossplane composition render` per pass).
// They are removed from the decoded request BEFORE the function sees it, so the function cannot
// read them and the normalised key cannot hide a difference that matters (tests/server/cache.test.ts
// also shows each one leaves the response unchanged). The desired state is never touched: the
// function echoes it. uid, deletionTimestamp, labels, annotations and condition type/status/message
// are read (compose.ts ownership, adoption.ts Synced) and stay.
import { createHash } from 'node:crypto';
import type { Resource, RunFunctionRequest } from '@crossplane-org/function-sdk-typescript';
import { encodeRequestForKey } from './wire.js';

export const VOLATILE_METADATA = ['resourceVersion', 'managedFields', 'generation', 'creationTimestamp'] as const;
export const VOLATILE_CONDITION_FIELDS = ['lastTransitionTime', 'observedGeneration'] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stripObject(o: unknown): void {
  if (!isObject(o)) return;
  const metadata = o['metadata'];
  if (isObject(metadata)) for (const f of VOLATILE_METADATA) delete metadata[f];
  const status = o['status'];
  const conditions = isObject(status) ? status['conditions'] : undefined;
  if (Array.isArray(conditions)) {
    for (const c of conditions) if (isObject(c)) for (const f of VOLATILE_CONDITION_FIELDS) delete c[f];
  }
}

const stripResource = (r: Resource | undefined): void => stripObject(r?.resource);

/** The XR's own conditions and their bookkeeping: the function reads only composed resources' conditions. */
export const VOLATILE_COMPOSITE_STATUS = ['conditions', 'claimConditionTypes'] as const;

/** Removes the volatile fields from every observed and supplied object, in place. */
export function normaliseRequest(req: RunFunctionRequest): void {
  const xr = req.observed?.composite?.resource;
  stripObject(xr);
  const status = xr?.['status'];
  if (isObject(status)) for (const f of VOLATILE_COMPOSITE_STATUS) delete status[f];
  for (const r of Object.values(req.observed?.resources ?? {})) stripResource(r);
  for (const group of [req.requiredResources, req.extraResources]) {
    for (const { items } of Object.values(group)) for (const r of items) stripResource(r);
  }
}

/** SHA-256: a collision would hand one XR's answer to another. */
export function hashKey(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** The key of a normalised request: everything but meta (its tag is Crossplane's hash of the rest). */
export function normalisedKey(req: RunFunctionRequest): string {
  return `n:${hashKey(encodeRequestForKey(req))}`;
}

export function exactKey(bytes: Uint8Array): string {
  return `x:${hashKey(bytes)}`;
}
