// The pinned upstream binaries (upstream/versions.env, built into .upstream/bin by `make upstream`)
// for the tests that run the real Crossplane tools. A missing binary or Go toolchain is a failure
// that says how to fix it, never a skip: these suites are the evidence that our emulation holds.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './repo.js';

export type UpstreamBinary = 'crossplane' | 'crossplane-core' | 'function-auto-ready';

/** upstream/versions.env as a map (KEY=value lines; # comments). */
export function upstreamPins(): Record<string, string> {
  const text = readFileSync(path.join(repoRoot, 'upstream/versions.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => {
        const i = l.indexOf('=');
        return [l.slice(0, i), l.slice(i + 1)];
      }),
  );
}

export function upstreamBinary(name: UpstreamBinary): string {
  const file = path.join(repoRoot, '.upstream/bin', name);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`make upstream\` (make test builds it first; it needs Go >= 1.26)`);
  return file;
}

/** Crossplane core's own CRDs (cluster/crds of the pinned core module), from the Go module cache the build filled. */
export function coreCrdsDir(): string {
  let modCache: string;
  try {
    modCache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('the Go toolchain is missing: the core CRDs come from the module cache of `make upstream`');
  }
  const dir = path.join(modCache, `github.com/crossplane/crossplane/v2@${upstreamPins()['CROSSPLANE_CORE_VERSION']}`, 'cluster/crds');
  if (!existsSync(dir)) throw new Error(`${dir} is missing: run \`make upstream\``);
  return dir;
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
    const child = spawn(bin, args, { cwd: opts.cwd ?? repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
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
