// Runs the compiled render CLI (make test builds it first) and writes scratch claim files.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './repo.js';

export const renderCli = path.join(repoRoot, 'dist/functions/secure-bucket/src/render.js');

export function assertBuilt(): void {
  if (!existsSync(renderCli)) throw new Error(`${renderCli} is missing: run 'make build' (make test does it) before these tests`);
}

export function render(args: string[], timeout = 120_000) {
  return spawnSync(process.execPath, [renderCli, ...args], { cwd: repoRoot, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
}

export function scratchDir(prefix = 'render-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Writes `docs` (as JSON, which is YAML) or raw text to dir/name and returns the path. */
export function writeClaimFile(dir: string, name: string, docs: unknown[] | string): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof docs === 'string' ? docs : docs.map((d) => JSON.stringify(d)).join('\n---\n'));
  return file;
}
