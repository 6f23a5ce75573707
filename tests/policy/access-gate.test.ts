// `make access-diff` as the pull-request gate (issue 19, finding 4): each test commits a change to a
// throwaway copy of this repo and runs the gate between the two commits. The gate must see what
// Flux applies (the built kustomizations), select buckets by apiVersion group + kind, and fail
// when it cannot build what it must judge.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { repoRoot } from '../lib/repo.js';
import { assertBuilt } from '../lib/render-cli.js';

// ACCESS_GATE_CLI: another build of the gate (to check these tests fail on an older one).
const gateCli = process.env['ACCESS_GATE_CLI'] ?? path.join(repoRoot, 'dist/tools/access-diff.js');
const SALES = 'clusters/staging/tenants/team-sales';
const INVENTORY = 'clusters/staging/tenants/team-inventory';
const scratch: string[] = [];

beforeAll(assertBuilt);
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function git(dir: string, args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A git repo holding this repo's committed tree (dist and node_modules linked in), one commit: BASE. */
function fixtureRepo(): { dir: string; base: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'access-gate-'));
  scratch.push(dir);
  execFileSync('sh', ['-c', 'git -C "$1" archive HEAD | tar -x -C "$2"', 'sh', repoRoot, dir]);
  for (const link of ['dist', 'node_modules']) symlinkSync(path.join(repoRoot, link), path.join(dir, link));
  git(dir, ['init', '-q']);
  appendFileSync(path.join(dir, '.git/info/exclude'), '/dist\n/node_modules\n');
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.org', 'add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-qm', 'base']);
  return { dir, base: git(dir, ['rev-parse', 'HEAD']).trim() };
}

function commit(dir: string, message = 'head'): void {
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.org', 'add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-qm', message]);
}

function gate(dir: string, base: string, args = ['--fail-on-widening']) {
  return spawnSync(process.execPath, [gateCli, base, ...args], { cwd: dir, encoding: 'utf8', timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
}

const edit = (dir: string, file: string, f: (text: string) => string) => writeFileSync(path.join(dir, file), f(readFileSync(path.join(dir, file), 'utf8')));
const widenReporting = (text: string) => text.replace(/(name: reporting\n\s+serviceAccount: reporting\n\s+access:) Read\n/, '$1 ReadWrite\n');

/** The principals the Markdown reports as gaining something. */
function gainers(markdown: string): string[] {
  return [...markdown.matchAll(/^#### `([^`]+)`: (\d+) request\(s\) gained/gm)].filter((m) => Number(m[2]) > 0).map((m) => m[1] as string);
}

function expectWidening(run: ReturnType<typeof gate>, principal: string): void {
  expect(run.stderr).not.toMatch(/error/i);
  expect(run.stdout).toMatch(/Access widens/);
  expect(gainers(run.stdout)).toContain(principal);
  expect(run.status).toBe(3);
}

describe('finding 4', () => {
  it('finding 4: a v2 XSecureBucket widening is reported', () => {
    const { dir, base } = fixtureRepo();
    edit(dir, `${SALES}/sales-events.yaml`, widenReporting);
    commit(dir);
    expectWidening(gate(dir, base), 'reporting');
  });

  it('finding 4: a kustomize patch that widens access is reported', () => {
    const { dir, base } = fixtureRepo();
    const patch = `patches:\n  - target: { group: storage.platform.example.org, kind: XSecureBucket, name: sales-events }\n    patch: |\n      - op: replace\n        path: /spec/consumers/2/access\n        value: ReadWrite\n`;
    edit(dir, `${SALES}/kustomization.yaml`, (t) => `${t}${patch}`);
    commit(dir);
    expectWidening(gate(dir, base), 'reporting');
  });

  it('finding 4: a folder that fails to build fails the gate', () => {
    const { dir, base } = fixtureRepo();
    edit(dir, `${SALES}/kustomization.yaml`, (t) => t.replace('  - sales-events.yaml\n', '  - sales-events.yaml\n  - missing.yaml\n'));
    commit(dir);
    const run = gate(dir, base);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/clusters\/staging\/tenants\/team-sales/);
    expect(run.stderr).toMatch(/missing\.yaml/);
  });

  it('finding 4: a changed tenant folder that no Flux Kustomization applies yet must still build', () => {
    const { dir, base } = fixtureRepo();
    mkdirSync(path.join(dir, 'clusters/staging/tenants/team-new'));
    writeFileSync(path.join(dir, 'clusters/staging/tenants/team-new/kustomization.yaml'), 'resources:\n  - bucket.yaml\n');
    commit(dir);
    const run = gate(dir, base);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/clusters\/staging\/tenants\/team-new .*does not build/);
  });

  it('a change that leaves access alone passes, and names nothing', () => {
    const { dir, base } = fixtureRepo();
    edit(dir, `${SALES}/sales-events.yaml`, (t) => `# a comment only\n${t}`);
    commit(dir);
    const run = gate(dir, base);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/No bucket changed/);
  });
});

// A hostile tenant trying to slip a widening past the gate.
describe('red team', () => {
  it('red team: renaming the bucket in the same PR is a new bucket, all gains', () => {
    const { dir, base } = fixtureRepo();
    edit(dir, `${SALES}/sales-events.yaml`, (t) => widenReporting(t).replace('name: sales-events\n', 'name: sales-events2\n'));
    commit(dir);
    expectWidening(gate(dir, base), 'reporting');
  });

  it("red team: moving the bucket into another tenant's folder is seen in the namespace Flux applies it to", () => {
    const { dir, base } = fixtureRepo();
    renameSync(path.join(dir, SALES, 'sales-events.yaml'), path.join(dir, INVENTORY, 'sales-events.yaml'));
    edit(dir, `${SALES}/kustomization.yaml`, (t) => t.replace('  - sales-events.yaml\n', ''));
    edit(dir, `${INVENTORY}/kustomization.yaml`, (t) => t.replace('  - scratch.yaml\n', '  - scratch.yaml\n  - sales-events.yaml\n'));
    commit(dir);
    const run = gate(dir, base);
    expectWidening(run, 'reporting');
    expect(run.stdout).toMatch(/team-inventory\/sales-events/);
  });

  it('red team: an apiVersion in another case fails the gate instead of being skipped', () => {
    const { dir, base } = fixtureRepo();
    edit(dir, `${SALES}/sales-events.yaml`, (t) =>
      widenReporting(t).replace('apiVersion: storage.platform.example.org/', 'apiVersion: Storage.Platform.Example.org/'),
    );
    commit(dir);
    const run = gate(dir, base);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Storage\.Platform\.Example\.org/);
  });

  it('red team: a second bucket hidden after `---` and `...` markers in one file is diffed', () => {
    const { dir, base } = fixtureRepo();
    const extra = readFileSync(path.join(dir, SALES, 'sales-events.yaml'), 'utf8').replace('name: sales-events\n', 'name: hidden\n');
    edit(dir, `${SALES}/sales-events.yaml`, (t) => `${t}...\n--- # looks like a comment\n${widenReporting(extra)}`);
    commit(dir);
    const run = gate(dir, base);
    expectWidening(run, 'reporting');
    expect(run.stdout).toMatch(/team-sales\/hidden/);
  });

  it('red team: a widening through a YAML anchor and alias is reported', () => {
    const { dir, base } = fixtureRepo();
    edit(dir, `${SALES}/sales-events.yaml`, (t) =>
      t.replace('access: ReadWrite\n', 'access: &rw ReadWrite\n').replace(/(name: reporting\n\s+serviceAccount: reporting\n\s+access:) Read\n/, '$1 *rw\n'),
    );
    commit(dir);
    expectWidening(gate(dir, base), 'reporting');
  });

  it('red team: a patch file outside tenants/ that the folder references by ../ is followed', () => {
    const { dir, base } = fixtureRepo();
    const shared = 'clusters/staging/shared-patches';
    const patchFile = (access: string) => `- op: replace\n  path: /spec/consumers/2/access\n  value: ${access}\n`;
    mkdirSync(path.join(dir, shared));
    writeFileSync(path.join(dir, shared, 'reporting.yaml'), patchFile('Read'));
    edit(
      dir,
      `${SALES}/kustomization.yaml`,
      (t) => `${t}patches:\n  - target: { kind: XSecureBucket, name: sales-events }\n    path: ../../shared-patches/reporting.yaml\n`,
    );
    commit(dir, 'base with the shared patch');
    const withPatch = git(dir, ['rev-parse', 'HEAD']).trim();
    expect(gate(dir, base).status).toBe(0); // the patch itself changes nothing yet
    writeFileSync(path.join(dir, shared, 'reporting.yaml'), patchFile('ReadWrite'));
    commit(dir);
    expectWidening(gate(dir, withPatch), 'reporting');
  });

  it('red team: a symlink that leaves the repository fails the gate', () => {
    const { dir, base } = fixtureRepo();
    const outside = mkdtempSync(path.join(tmpdir(), 'access-gate-outside-'));
    scratch.push(outside);
    writeFileSync(path.join(outside, 'bucket.yaml'), widenReporting(readFileSync(path.join(dir, SALES, 'sales-events.yaml'), 'utf8')));
    rmSync(path.join(dir, SALES, 'sales-events.yaml'));
    symlinkSync(path.join(outside, 'bucket.yaml'), path.join(dir, SALES, 'sales-events.yaml'));
    commit(dir);
    const run = gate(dir, base);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/symlink/i);
  });

  it('red team: a symlink to a file elsewhere in clusters/ is followed like Flux does', () => {
    const { dir, base } = fixtureRepo();
    const target = 'clusters/staging/shared-buckets/sales-events.yaml';
    mkdirSync(path.join(dir, path.dirname(target)));
    writeFileSync(path.join(dir, target), widenReporting(readFileSync(path.join(dir, SALES, 'sales-events.yaml'), 'utf8')));
    rmSync(path.join(dir, SALES, 'sales-events.yaml'));
    symlinkSync('../../shared-buckets/sales-events.yaml', path.join(dir, SALES, 'sales-events.yaml'));
    commit(dir);
    expectWidening(gate(dir, base), 'reporting');
  });

  it('red team: a .sourceignore (Flux would drop files the gate reads) fails the gate', () => {
    const { dir, base } = fixtureRepo();
    writeFileSync(path.join(dir, SALES, '.sourceignore'), 'narrowing-patch.yaml\n');
    commit(dir);
    const run = gate(dir, base);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/\.sourceignore/);
  });

  it("red team: a tenant folder reaching outside clusters/ (not in the tenants' Flux source) fails the gate", () => {
    const { dir, base } = fixtureRepo();
    mkdirSync(path.join(dir, 'extra'));
    writeFileSync(
      path.join(dir, 'extra/bucket.yaml'),
      widenReporting(readFileSync(path.join(dir, SALES, 'sales-events.yaml'), 'utf8')).replace('name: sales-events\n', 'name: extra\n'),
    );
    edit(dir, `${SALES}/kustomization.yaml`, (t) => t.replace('  - sales-events.yaml\n', '  - sales-events.yaml\n  - ../../../../extra/bucket.yaml\n'));
    commit(dir);
    const run = gate(dir, base);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/extra\/bucket\.yaml/);
  });
});
