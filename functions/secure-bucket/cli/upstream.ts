// The pinned upstream binaries (upstream/versions.env, built into .upstream/bin by `make upstream`):
// the real Crossplane CLI and core the render engine (control-plane/engine.ts) and the tests run.
// A missing binary is an error that says how to fix it, never a skip.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type UpstreamBinary = 'crossplane' | 'crossplane-core' | 'function-auto-ready';

/** The repository root: the nearest folder above this module holding upstream/versions.env (sources or dist/). */
export const upstreamRoot: string = (() => {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'upstream/versions.env'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('upstream/versions.env not found above ' + fileURLToPath(import.meta.url));
  }
})();

/** upstream/versions.env as a map (KEY=value lines; # comments). */
export function upstreamPins(): Record<string, string> {
  const text = readFileSync(path.join(upstreamRoot, 'upstream/versions.env'), 'utf8');
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

export function upstreamBinary(name: UpstreamBinary): string {
  const file = path.join(upstreamRoot, '.upstream/bin', name);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`make upstream\` (make test builds it first; it needs Go >= 1.26)`);
  return file;
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an upstream binary to completion (stdin optional); never throws on a non-zero exit. */
export function runUpstream(name: UpstreamBinary, args: string[], opts: { stdin?: string; cwd?: string; timeoutMs?: number } = {}): Promise<Ran> {
  const bin = upstreamBinary(name);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: opts.cwd ?? upstreamRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}
