// The adapter's readings of the platform's EnvironmentConfig. Every call of a platform carries the
// same `data`; reading it (validation, the tenants' name segments and their pairwise check) is done
// once per distinct content and handed to the core with the data (ComposeInput.environment). The
// core keeps no memo of its own (tests/layout/import-graph.test.ts); this one is keyed by the full
// content, so the answer stays a function of the request.
import { readEnvironment, type PlatformEnvironment } from './core/index.js';

/** Distinct EnvironmentConfigs kept: one per platform, a few while one changes. Least recently used first out. */
const ENTRIES = 8;
/** Larger data is read every time: 8 entries stay under ~10 MB with their readings. */
const MAX_KEY = 1 << 20;
const readings = new Map<string, PlatformEnvironment>();

/**
 * readEnvironment(data), kept; undefined when the data is refused: the core then reads it itself
 * and words the refusal for the tenant (its hint), which is why refusals are never kept.
 */
export function knownEnvironment(data: unknown): PlatformEnvironment | undefined {
  const key = contentKey(data);
  if (key !== undefined) {
    const known = readings.get(key);
    if (known !== undefined) {
      readings.delete(key);
      readings.set(key, known);
      return known;
    }
  }
  let env: PlatformEnvironment;
  try {
    env = readEnvironment(data);
  } catch {
    return undefined;
  }
  // Shared by every later call with the same data: frozen, so a write throws instead of leaking
  // into another render (the core writes nothing it is given: tests/function/pure-core.test.ts).
  deepFreeze(env);
  if (key !== undefined) {
    readings.set(key, env);
    if (readings.size > ENTRIES) readings.delete(readings.keys().next().value as string);
  }
  return env;
}

/**
 * The content of `data` as a string, one string per content: JSON of plain data only (strings,
 * finite numbers other than -0, booleans, null, plain objects of this realm and dense arrays, no
 * undefined). Anything JSON would blur (NaN and Infinity print as null, -0 as 0, undefined is
 * dropped, a Map prints as {}) or deeper than data ever is: undefined, and the data is read afresh.
 */
function contentKey(data: unknown): string | undefined {
  if (!plainJson(data, 0)) return undefined;
  const key = JSON.stringify(data);
  return key.length <= MAX_KEY ? key : undefined;
}

function plainJson(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (v === null) return true;
      if (depth > 32) return false;
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== Array.prototype) return false;
        for (let i = 0; i < v.length; i++) if (!(i in v) || !plainJson(v[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      for (const k in v) if (!plainJson((v as Record<string, unknown>)[k], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x);
}
