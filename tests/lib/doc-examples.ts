// The command examples of the docs, and a fresh clone to run them in. An ```sh block runs as it is
// unless the comment line before it says otherwise: `<!-- example: needs a cluster -->` (or another
// reason) skips it, `<!-- example: exit N -->` expects exit status N, `<!-- example: run -->` runs it.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, sharedDir } from './repo.js';

export const DOC_FILES = [
  'README.md',
  'clusters/README.md',
  'compositions/README.md',
  'cdk8s/README.md',
  'docs/controls.md',
  'docs/environment.md',
  'docs/migrate-to-v2.md',
  'docs/troubleshooting.md',
  'docs/upstream-render.md',
  'CHANGELOG.md',
];

export interface DocExample {
  file: string;
  line: number;
  code: string;
  /** The marker's text after `example:`; undefined when there is none (the block runs). */
  marker: string | undefined;
  /** undefined: skipped, with the marker as the reason. */
  expectStatus: number | undefined;
}

export function docExamples(file: string): DocExample[] {
  const lines = readFileSync(path.join(repoRoot, file), 'utf8').split('\n');
  const out: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*```(sh|bash)\s*$/.test(lines[i] as string)) continue;
    const indent = (lines[i] as string).search(/\S/);
    const marker = /<!--\s*example:\s*(.*?)\s*-->/.exec(lines[i - 1] ?? '')?.[1];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] as string); j++) body.push((lines[j] as string).slice(indent));
    const exit = marker === undefined || marker === 'run' ? 0 : /^exit (\d+)$/.exec(marker)?.[1];
    out.push({ file, line: i + 1, code: body.join('\n'), marker, expectStatus: exit === undefined ? undefined : Number(exit) });
    i = j;
  }
  return out;
}

/**
 * A git clone of this repository (HEAD, not the working tree: what a new user gets) in a temporary
 * folder, with this checkout's node_modules and dist/ so that nothing installs or recompiles.
 */
export function freshClone(prefix: string): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), prefix)), 'repo');
  execFileSync('git', ['clone', '-q', '--no-hardlinks', repoRoot, dir], { stdio: 'pipe' });
  execFileSync('git', ['-C', dir, 'checkout', '-q', execFileSync('git', ['-C', repoRoot, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()], {
    stdio: 'pipe',
  });
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  // Older than node_modules' stamp: make does not run npm ci again.
  const old = new Date('2000-01-01');
  for (const f of ['package.json', 'package-lock.json']) utimesSync(path.join(dir, f), old, old);
  if (existsSync(path.join(repoRoot, 'dist'))) cpSync(path.join(repoRoot, 'dist'), path.join(dir, 'dist'), { recursive: true });
  return dir;
}

/** bash -e in `cwd`, with ../shared reachable through SHARED_DIR. */
export function runScript(code: string, cwd: string, timeout = 300_000) {
  return spawnSync('bash', ['-e', '-o', 'pipefail', '-c', code], {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, SHARED_DIR: sharedDir },
    maxBuffer: 64 * 1024 * 1024,
  });
}
