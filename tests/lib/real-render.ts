// Our Composition run by the real engine: `crossplane composition render` (pinned CLI) with
// `--crossplane-binary` = the pinned core (one real XR Reconcile() per call), our function and
// function-auto-ready served in plaintext on free loopback ports (Development runtime), the
// cluster's EnvironmentConfig as a required resource, and each pass's composed resources fed
// back as observed resources after our fake provider reconciled them, until nothing changes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { canonicalJson, isObject, type Json } from '../../functions/secure-bucket/src/core/index.js';
import { FakeAccount } from '../../functions/secure-bucket/cli/control-plane/fake-provider.js';
import { repoRoot } from './repo.js';
import { runUpstream, upstreamBinary } from './upstream.js';

const RESOURCE_NAME = 'crossplane.io/composition-resource-name';

// JSON is YAML: no dumper that refuses objects of another realm (structuredClone under jest).
const dump = (o: unknown): string => `${JSON.stringify(o)}\n`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = createConnection({ port, host: '127.0.0.1' }, () => (c.end(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on 127.0.0.1:${port} within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Functions {
  /** The Function objects render reads, each annotated with its Development target. */
  file: string;
  stop(): void;
}

/** Our function (node dist/.../main.js --insecure) and function-auto-ready (--insecure), each on a free port. */
export async function startFunctions(dir: string): Promise<Functions> {
  const ours = await freePort();
  const autoReady = await freePort();
  const main = path.join(repoRoot, 'dist/functions/secure-bucket/src/main.js');
  const children = [
    spawn(process.execPath, [main, '--insecure', '--address', `127.0.0.1:${ours}`], { stdio: 'ignore' }),
    spawn(upstreamBinary('function-auto-ready'), ['--insecure', '--address', `127.0.0.1:${autoReady}`], { stdio: 'ignore' }),
  ];
  const stop = () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
  try {
    await waitForPort(ours, children[0]!, `function-secure-bucket (${main}: run make build)`);
    await waitForPort(autoReady, children[1]!, 'function-auto-ready');
  } catch (e) {
    stop();
    throw e;
  }
  const fn = (name: string, port: number) => ({
    apiVersion: 'pkg.crossplane.io/v1',
    kind: 'Function',
    metadata: { name, annotations: { 'render.crossplane.io/runtime': 'Development', 'render.crossplane.io/runtime-development-target': `127.0.0.1:${port}` } },
    spec: { package: `example.org/${name}:v0.0.0` },
  });
  const file = path.join(dir, 'functions.yaml');
  writeFileSync(file, [fn('function-secure-bucket', ours), fn('function-auto-ready', autoReady)].map((f) => `---\n${dump(f)}`).join(''));
  return { file, stop };
}

export interface EnginePass {
  /** The XR the engine wrote back (status, conditions). */
  xr: Json;
  /** Composed resources as Crossplane applied them, by composition-resource-name. */
  composed: Record<string, Json>;
  /** kind: Result objects (-r): the reconciler's events. */
  results: Json[];
  /** What the fake provider reported for them (the next pass's observed resources). */
  observed: Record<string, Json>;
}

export interface EngineInput {
  /** The XR as our emulation starts it (compositeForClaim). */
  xr: Json;
  composition: string;
  xrd: string;
  environment: Json;
  functions: Functions;
  account: FakeAccount;
  maxPasses?: number;
  /** Return after this many passes, settled or not. */
  stopAfter?: number;
}

/** One `crossplane composition render` call. */
async function renderOnce(dir: string, pass: number, input: EngineInput, xr: Json, observed: Record<string, Json>): Promise<Omit<EnginePass, 'observed'>> {
  const xrFile = path.join(dir, `xr-${pass}.yaml`);
  const envFile = path.join(dir, 'environment.yaml');
  const observedFile = path.join(dir, `observed-${pass}.yaml`);
  writeFileSync(xrFile, dump(xr));
  writeFileSync(envFile, dump(input.environment));
  const args = ['composition', 'render', xrFile, input.composition, input.functions.file, '--crossplane-binary', upstreamBinary('crossplane-core'), '--xrd', input.xrd, '--required-resources', envFile, '-r', '--timeout', '90s'];
  if (Object.keys(observed).length > 0) {
    writeFileSync(observedFile, Object.values(observed).map((o) => `---\n${dump(o)}`).join(''));
    args.push('--observed-resources', observedFile);
  }
  const ran = await runUpstream('crossplane', args, { timeoutMs: 150_000 });
  writeFileSync(path.join(dir, `out-${pass}.yaml`), ran.stdout); // kept for reading a difference
  const docs = loadAll(ran.stdout).filter(isObject) as Json[];
  // A Fatal result: the CLI prints nothing and exits 1 with the step's message (cmd.go: render
  // returns the engine's error). Kept as the pass's one result, as our emulation reports it.
  const fatal = /returned a fatal result: (.*)$/s.exec(ran.stderr.trim());
  if (ran.code !== 0 && docs.length === 0 && fatal) return { xr: {}, composed: {}, results: [{ kind: 'Fatal', severity: 'Fatal', message: fatal[1]! }] };
  if (ran.code !== 0 && docs.length === 0) throw new Error(`crossplane composition render (pass ${pass}) failed with ${ran.code}:\n${ran.stderr}`);
  const [out, ...rest] = docs;
  const composed: Record<string, Json> = {};
  const results: Json[] = [];
  for (const d of rest) {
    if (d['kind'] === 'Result' && String(d['apiVersion']).startsWith('render.crossplane.io/')) results.push(d);
    else composed[String(((d['metadata'] as Json)['annotations'] as Json)[RESOURCE_NAME])] = d;
  }
  if (ran.code !== 0) results.push({ kind: 'RenderError', message: ran.stderr.trim() });
  return { xr: out ?? {}, composed, results };
}

/** Every pass until a pass changes neither the composed resources nor the XR status (as converge.ts decides). */
export async function renderWithEngine(input: EngineInput): Promise<EnginePass[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'xp-render-'));
  const metadata = input.xr['metadata'] as Json;
  const provider = input.account.providerFor(String(metadata['name']));
  const passes: EnginePass[] = [];
  let observed: Record<string, Json> = {};
  let status: Json | undefined;
  let previous = '';
  for (let pass = 1; pass <= (input.maxPasses ?? 10); pass++) {
    // The XR keeps the status the last reconcile wrote, as in a cluster.
    const xr = status === undefined ? input.xr : { ...input.xr, status };
    const out = await renderOnce(dir, pass, input, xr, observed);
    status = (out.xr['status'] ?? {}) as Json;
    // claimConditionTypes is the reconciler's own bookkeeping of the conditions it copied to the
    // claim; it comes and goes on alternate calls (the engine prints the XR of the last status
    // write), so it is not a change of the desired state.
    const { claimConditionTypes: _bookkeeping, ...compared } = status;
    const fingerprint = canonicalJson({ composed: out.composed, status: compared });
    if (fingerprint === previous || out.results.some((r) => r['kind'] === 'RenderError' || r['kind'] === 'Fatal')) {
      passes.push({ ...out, observed: {} });
      return passes;
    }
    previous = fingerprint;
    observed = provider.reconcile(out.composed);
    passes.push({ ...out, observed });
    if (passes.length === input.stopAfter) return passes;
  }
  throw new Error(`${String(metadata['name'])}: still changing after ${input.maxPasses ?? 10} passes of the real engine`);
}
