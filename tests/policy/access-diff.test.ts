// render --diff-access: the requests each principal gains or loses between two versions of a claim,
// from the IAM simulator on both renders. Widening a Read consumer to ReadWrite must show exactly
// that consumer gaining write (and delete) on each of its prefixes, and fail with --fail-on-widening;
// the reverse change only loses access and passes.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { claimsDir, exampleClaims, withSpec } from '../lib/function-fixtures.js';
import { assertBuilt, render, scratchDir, writeClaimFile } from '../lib/render-cli.js';
import { compareMatrices, compareResources, differingFields } from '../../functions/secure-bucket/cli/explain/access-diff.js';

beforeAll(assertBuilt);

type Consumer = { name: string; access: string; prefixes: string[] };

/** An example claim with a Read consumer (whichever example has one first). */
function readConsumerExample() {
  for (const { file, claim } of exampleClaims()) {
    const c = ((claim.spec['consumers'] ?? []) as Consumer[]).find((x) => x.access === 'Read');
    if (c) return { file, claim, consumer: c };
  }
  throw new Error('no example claim has a Read consumer to widen');
}

/** Rows of the Markdown tables: [principal, change, request] for every gain or loss. */
function changesIn(markdown: string): Array<{ principal: string; change: 'gains' | 'loses'; request: string }> {
  const out: Array<{ principal: string; change: 'gains' | 'loses'; request: string }> = [];
  let principal = '';
  for (const line of markdown.split('\n')) {
    const heading = /^#### `([^`]+)`/.exec(line);
    if (heading) principal = heading[1] as string;
    const row = /^\| (\*\*gains\*\*|loses) [^|]*\| `([^`]+)` \|/.exec(line);
    if (row) out.push({ principal, change: row[1] === 'loses' ? 'loses' : 'gains', request: row[2] as string });
  }
  return out;
}

describe('widening one consumer from Read to ReadWrite', () => {
  const { claim, consumer } = readConsumerExample();
  const dir = scratchDir('diff-');
  const base = writeClaimFile(dir, 'base.yaml', [claim]);
  const widened = withSpec(claim, (s) => {
    for (const c of s['consumers'] as Consumer[]) if (c.name === consumer.name) c.access = 'ReadWrite';
  });
  const head = writeClaimFile(dir, 'head.yaml', [widened]);

  it('shows that consumer, and only it, gaining write and delete on each of its prefixes; --fail-on-widening exits 3', () => {
    const run = render(['--diff-access', '--fail-on-widening', base, head]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(3);
    const changes = changesIn(run.stdout);
    expect(new Set(changes.map((c) => `${c.principal} ${c.change}`))).toEqual(new Set([`${consumer.name} gains`]));
    const gained = changes.map((c) => c.request);
    for (const prefix of consumer.prefixes) expect(gained).toEqual(expect.arrayContaining([`write ${prefix}`, `delete ${prefix}`]));
    expect(gained.every((r) => /^(write|delete) /.test(r))).toBe(true);
    expect(run.stdout).toMatch(new RegExp(`\\| changed \\| \`consumer-${consumer.name}-role\` \\| Role \\|`));
  });

  it('without --fail-on-widening the same diff exits 0', () => {
    expect(render(['--diff-access', base, head]).status).toBe(0);
  });

  it('the reverse change only loses access and exits 0 with --fail-on-widening', () => {
    const run = render(['--diff-access', '--fail-on-widening', head, base]);
    expect(run.status).toBe(0);
    const changes = changesIn(run.stdout);
    expect(changes.length).toBeGreaterThan(0);
    expect(new Set(changes.map((c) => `${c.principal} ${c.change}`))).toEqual(new Set([`${consumer.name} loses`]));
    expect(run.stdout).toMatch(/No principal gains access\./);
  });

  it('an unchanged claim has nothing to report', () => {
    const run = render(['--diff-access', '--fail-on-widening', base, base]);
    expect(run.status).toBe(0);
    expect(changesIn(run.stdout)).toEqual([]);
  });
});

describe('claims added and deleted (folders)', () => {
  const empty = scratchDir('diff-empty-');

  it('a claim only in HEAD is all gains (exit 3 with --fail-on-widening), only in BASE all losses', () => {
    const added = render(['--diff-access', '--fail-on-widening', empty, claimsDir]);
    expect(added.status).toBe(3);
    const gains = changesIn(added.stdout);
    expect(gains.length).toBeGreaterThan(0);
    expect(gains.every((c) => c.change === 'gains')).toBe(true);
    for (const { claim } of exampleClaims()) expect(added.stdout).toContain(`### \`${claim.metadata.namespace}/${claim.metadata.name}\``);
    const deleted = render(['--diff-access', '--fail-on-widening', claimsDir, empty]);
    expect(deleted.status).toBe(0);
    expect(changesIn(deleted.stdout).every((c) => c.change === 'loses')).toBe(true);
    expect(changesIn(deleted.stdout)).toHaveLength(gains.length);
  });

  it('a BASE that does not exist is an error, not "nothing changed"', () => {
    const run = render(['--diff-access', `${empty}/missing`, `${claimsDir}/${exampleClaims()[0]!.file}`]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/missing: no such file or folder/);
  });
});

describe('the comparison itself', () => {
  const row = (label: string, allowed: boolean) =>
    ({
      principal: { label },
      family: 'read',
      place: 'own-prefix',
      prefix: 'a/',
      path: { id: 'p' },
      decision: { allowed, result: allowed ? 'Allowed' : 'ImplicitlyDenied', decidedBy: 'x:y' },
    }) as never;

  it('a request only one side asks counts as denied on the other', () => {
    expect(compareMatrices([], [row('a', true), row('b', false)]).gains.map((g) => g.principal)).toEqual(['a']);
    expect(compareMatrices([row('a', true)], [row('a', false)]).losses.map((g) => g.principal)).toEqual(['a']);
  });

  it('names the fields that differ, and resources added or removed', () => {
    expect(differingFields({ a: { b: [1, 2] }, c: 1 }, { a: { b: [1, 3] }, c: 1 })).toEqual(['a.b[1]']);
    expect(compareResources({ x: { kind: 'K' } }, { y: { kind: 'L' } }).map((c) => `${c.change} ${c.name} ${c.kind}`)).toEqual(['removed x K', 'added y L']);
  });
});
