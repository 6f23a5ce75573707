// What every response of the function must satisfy, whatever it was sent: never an internal
// error, every Fatal result a known reason with a message that names the field at fault, and
// every rendered policy in canonical JSON (the provider re-applies anything else forever).
import { expect } from '@jest/globals';
import { Severity, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { canonicalJson } from '../../functions/secure-bucket/src/core/index.js';

export type Json = Record<string, unknown>;

/**
 * Each Fatal reason with the message it must carry: `<field path>: <problem>. Fix: <fix>`, the path
 * rooted where the bad value lives (the claim's own keys may hold any character).
 */
const EXPECTED_FATALS: Record<string, RegExp> = {
  InvalidClaim: /^(spec|metadata)([.[].*)?: \S.*\. Fix: \S/s,
  InvalidEnvironment: /^EnvironmentConfig data([.[].*)?: \S.*\. Fix: \S/s,
  InvalidInput: /^input\.environmentConfigName: \S.*\. Fix: \S/s,
  EnvironmentMissing: /^EnvironmentConfig [a-z0-9.-]+ not found or has no data\. Fix: /s,
  BadRequest: /^request has no observed composite resource$/,
};

export function fatals(rsp: RunFunctionResponse): Array<{ message: string; reason: string }> {
  return rsp.results.filter((r) => r.severity === Severity.SEVERITY_FATAL).map((r) => ({ message: r.message, reason: r.reason ?? '' }));
}

/** Policy strings anywhere in a rendered resource's forProvider. */
function policyStrings(forProvider: Json): string[] {
  const out: string[] = [];
  for (const key of ['policy', 'assumeRolePolicy']) if (typeof forProvider[key] === 'string') out.push(forProvider[key]);
  for (const inline of Array.isArray(forProvider['inlinePolicy']) ? forProvider['inlinePolicy'] : []) {
    if (typeof (inline as Json)['policy'] === 'string') out.push((inline as Json)['policy'] as string);
  }
  return out;
}

/** Asserts the response is well-formed; returns whether it rendered (false: one named Fatal). */
export function expectWellFormed(rsp: RunFunctionResponse, what: string): boolean {
  const fatal = fatals(rsp);
  if (fatal.length > 0) {
    expect({ what, fatal }).toEqual({
      what,
      fatal: [expect.objectContaining({ reason: expect.stringMatching(/^(InvalidClaim|InvalidEnvironment|InvalidInput|EnvironmentMissing|BadRequest)$/) })],
    });
    expect({ what, message: fatal[0]!.message }).toEqual({ what, message: expect.stringMatching(EXPECTED_FATALS[fatal[0]!.reason]!) });
    return false;
  }
  const resources = Object.values(rsp.desired?.resources ?? {});
  if (resources.length === 0) return false; // the first call: only the EnvironmentConfig requirement
  for (const r of resources) {
    const forProvider = (((r.resource as Json)['spec'] as Json | undefined)?.['forProvider'] ?? {}) as Json;
    for (const p of policyStrings(forProvider)) expect(canonicalJson(JSON.parse(p))).toBe(p);
  }
  return true;
}

/** Runs `check` and never lets a thrown error pass for a rejected promise or vice versa. */
export async function resolvesWithoutThrowing<T>(call: () => Promise<T>): Promise<T> {
  let promise: Promise<T>;
  try {
    promise = call();
  } catch (err) {
    throw new Error(`threw synchronously: ${err instanceof Error ? err.message : String(err)}`);
  }
  return promise.catch((err: unknown) => {
    throw new Error(`rejected: ${err instanceof Error ? err.message : String(err)}`);
  });
}
