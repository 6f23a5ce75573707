// Small typed readers over untrusted JSON. Every failure is a ClaimError naming the field path,
// so whatever reaches the function (the XRD's schema may be bypassed or older) never crashes it.
import { ClaimError } from './types.js';

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function objectAt(value: unknown, field: string, required = false): Json | undefined {
  if (value === undefined || value === null) {
    if (required) throw new ClaimError(field, 'is required', `set ${field}`);
    return undefined;
  }
  if (!isObject(value)) throw new ClaimError(field, `must be an object, got ${describe(value)}`, `write ${field} as a mapping`);
  return value;
}

export function stringAt(value: unknown, field: string, rule?: { pattern?: RegExp; min?: number; max?: number; hint?: string }): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ClaimError(field, `must be a string, got ${describe(value)}`, `quote the value of ${field}`);
  if (rule?.max !== undefined && value.length > rule.max) {
    throw new ClaimError(field, `is ${value.length} characters, more than ${rule.max}`, `shorten ${field}`);
  }
  if (rule?.pattern && !rule.pattern.test(value)) {
    throw new ClaimError(field, `'${truncate(value)}' is not allowed`, rule.hint ?? `match ${rule.pattern.source}`);
  }
  if (rule?.min !== undefined && value.length < rule.min) {
    throw new ClaimError(field, `is ${value.length} characters, fewer than ${rule.min}`, `lengthen ${field}`);
  }
  return value;
}

export function requiredString(value: unknown, field: string, rule?: { pattern?: RegExp; min?: number; max?: number; hint?: string }): string {
  const s = stringAt(value, field, rule);
  if (s === undefined) throw new ClaimError(field, 'is required', `set ${field}`);
  return s;
}

export function enumAt<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback?: T): T {
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new ClaimError(field, 'is required', `set ${field} to one of ${allowed.join(', ')}`);
  }
  // Not String(value): an object whose toString is not a function makes String() throw.
  // YAML reads `1.3` or `true` unquoted as a number or boolean: retyping it would not help, quoting does.
  if ((typeof value === 'number' || typeof value === 'boolean') && (allowed as readonly string[]).includes(String(value))) {
    throw new ClaimError(
      field,
      `must be a string, got the ${typeof value} ${String(value)} (YAML reads it unquoted as one)`,
      `quote it: ${field.split('.').at(-1) ?? field}: "${String(value)}"`,
    );
  }
  if (typeof value !== 'string')
    throw new ClaimError(field, `must be one of ${allowed.join(', ')}, got ${describe(value)}`, `set ${field} to one of ${allowed.join(', ')}`);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ClaimError(field, `'${truncate(value)}' is not one of ${allowed.join(', ')}`, `set ${field} to one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function integerAt(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ClaimError(field, `must be a whole number, got ${describe(value)}`, `write ${field} as a number from ${min} to ${max}`);
  }
  if (value < min || value > max) throw new ClaimError(field, `${value} is outside ${min}..${max}`, `set ${field} between ${min} and ${max}`);
  return value;
}

export function booleanAt(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new ClaimError(field, `must be true or false, got ${describe(value)}`, `set ${field} to true or false`);
  return value;
}

export function arrayAt(value: unknown, field: string, maxItems: number): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ClaimError(field, `must be a list, got ${describe(value)}`, `write ${field} as a YAML list`);
  if (value.length > maxItems)
    throw new ClaimError(field, `has ${value.length} entries, more than ${maxItems}`, `keep at most ${maxItems} entries in ${field}`);
  return value;
}

/** Rejects keys the API does not have; `owned` maps platform-owned keys to who sets them. */
export function rejectUnknownKeys(obj: Json, field: string, known: readonly string[], owned: Record<string, string> = {}): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    // The key is the tenant's: shown cut and escaped, so it can neither flood nor forge a line.
    const path = field === '' ? truncate(key) : `${field}.${truncate(key)}`;
    const owner = owned[key];
    if (owner !== undefined) {
      throw new ClaimError(path, `is platform-owned (${owner}); a claim cannot set it`, `remove ${path} from the claim`);
    }
    throw new ClaimError(path, 'is not a field of XSecureBucketClaim', `remove ${path} or correct its spelling (fields: ${known.join(', ')})`);
  }
}

/** A value in a message: itself when a string, else its kind (String() throws on some objects). */
export function shown(value: unknown): string {
  return typeof value === 'string' ? value : describe(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value;
}

/** A tenant's string in a message: at most 80 characters, control characters escaped (one problem, one line). */
function truncate(s: string): string {
  const cut = s.length > 80 ? `${s.slice(0, 77)}...` : s;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
