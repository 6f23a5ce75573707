// Hostile edits of JSON trees for the fuzz tests: wrong types, odd strings, platform-owned and
// unknown keys, deleted fields and replaced subtrees, at any path of a valid document.
import fc from 'fast-check';

type Path = Array<string | number>;

/** Every path into a JSON tree, the root included. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

const hostileString = fc.oneof(
  fc.constantFrom(
    '',
    '*',
    '?',
    '${aws:username}',
    '../',
    '/',
    'a/../b/',
    'UPPER',
    'x'.repeat(300),
    'xn--bucket',
    'bucket-s3alias',
    'team-other-x',
    'us-east-1',
    'Read',
    'arn:aws:iam::999999999999:root',
  ),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 36501, 1e21, Number.MAX_SAFE_INTEGER, [], {}),
  fc.integer({ min: -10, max: 40_000 }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.array(hostileString, { maxLength: 25 }),
);
/** Keys a claim must not set (platform-owned), keys it may, and arbitrary ones. */
const hostileKey = fc.oneof(
  fc.constantFrom(
    'accountId',
    'kms',
    'encryption',
    'network',
    'identity',
    'forceDestroy',
    'publicAccess',
    'vpcEndpointId',
    'namespace',
    'roleArn',
    'region',
    'days',
    'years',
    'name',
    'prefixes',
    '__proto__',
    'constructor',
  ),
  fc.string({ maxLength: 12 }),
);

export interface Mutation {
  at: number;
  op: 'set' | 'delete' | 'add';
  key: string;
  value: unknown;
}
export const mutation: fc.Arbitrary<Mutation> = fc.record({ at: fc.nat(), op: fc.constantFrom('set', 'delete', 'add'), key: hostileKey, value: hostileValue });

export function mutate(spec: unknown, edits: Mutation[]): unknown {
  let root: unknown = structuredClone(spec);
  for (const edit of edits) {
    // fast-check hands out shared constants ([] and {}): copy, or an edit could nest a value in itself.
    const m = { ...edit, value: structuredClone(edit.value) };
    const paths = pathsOf(root);
    const path = paths[m.at % paths.length]!;
    const parent = path.slice(0, -1).reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], root) as
      Record<string | number, unknown> | unknown[];
    const last = path[path.length - 1];
    const target = last === undefined ? root : (parent as Record<string | number, unknown>)[last];
    if (m.op === 'add' && Array.isArray(target)) target.push(m.value);
    else if (m.op === 'add' && target !== null && typeof target === 'object')
      Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    else if (last === undefined) root = m.op === 'delete' ? undefined : m.value;
    else if (m.op === 'delete' && Array.isArray(parent)) parent.splice(last as number, 1);
    else if (m.op === 'delete') delete (parent as Record<string | number, unknown>)[last];
    else (parent as Record<string | number, unknown>)[last] = m.value;
  }
  return root;
}
