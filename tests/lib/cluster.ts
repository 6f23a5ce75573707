// kubectl against the local control plane of make cluster-up (upstream/cluster.sh): the pinned
// kubectl from .upstream/bin, the admin kubeconfig it writes, and --as for the tenants' identities.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './repo.js';

export const KUBECONFIG = path.join(repoRoot, '.upstream', 'kubeconfig');
export const ACCOUNT_FILE = path.join(repoRoot, '.upstream', 'account.json');
const KUBECTL = path.join(repoRoot, '.upstream', 'bin', 'kubectl');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Fails with the command to run when there is no cluster: the e2e suite never skips. */
export function requireCluster(): void {
  if (!existsSync(KUBECONFIG) || !existsSync(KUBECTL)) throw new Error('no local control plane: run make e2e (or make cluster-up first)');
  const r = kubectl(['get', '--raw', '/readyz']);
  if (r.code !== 0) throw new Error(`the local control plane does not answer (make cluster-up): ${r.stderr}`);
}

export function kubectl(args: string[], options: { as?: string; input?: string } = {}): Result {
  const r = spawnSync(KUBECTL, ['--kubeconfig', KUBECONFIG, ...(options.as ? [`--as=${options.as}`] : []), ...args], {
    encoding: 'utf8',
    input: options.input,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** kubectl ... -o json, parsed; throws with kubectl's message on failure. */
export function getJson<T = Record<string, unknown>>(args: string[], options: { as?: string } = {}): T {
  const r = kubectl([...args, '-o', 'json'], options);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Polls until check returns a value (not undefined) or the time is up; the error says what was last seen. */
export async function eventually<T>(what: string, seconds: number, check: () => T | undefined, last: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds}s. ${last()}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** What the provider stand-in's AWS account holds: kind -> external name -> settings. */
export function accountState(): Record<string, Record<string, unknown>> {
  return (JSON.parse(readFileSync(ACCOUNT_FILE, 'utf8')) as { state: Record<string, Record<string, unknown>> }).state;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export function conditionsOf(obj: unknown): Condition[] {
  const status = (obj as { status?: { conditions?: Condition[] } }).status;
  return status?.conditions ?? [];
}

export function isTrue(obj: unknown, type: string): boolean {
  return conditionsOf(obj).some((c) => c.type === type && c.status === 'True');
}
