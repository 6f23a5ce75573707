// The real Crossplane engine as the reconciler of our converge loop: each pass is one
// `crossplane composition render` (pinned CLI) with `--crossplane-binary` = the pinned core (one
// real XR Reconcile() per call), our function and function-auto-ready served in plaintext on free
// loopback ports (Development runtime), the cluster's EnvironmentConfig as a required resource,
// and the fake provider's reports as observed resources. converge.ts's loop decides the passes,
// exactly as it does for our pipeline emulation: one loop, two reconcilers.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { isObject, type Json } from '../../src/core/index.js';
import { runUpstream, upstreamBinary, upstreamRoot } from '../upstream.js';
import { convergeWith, type PassInput, type Reconciled, type RenderedClaim, type RenderOptions } from './converge.js';

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
  const main = path.join(upstreamRoot, 'dist/functions/secure-bucket/src/main.js');
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

/** One pass as the engine printed it. */
export interface EnginePass {
  /** The XR the engine wrote back (status, conditions). */
  xr: Json;
  /** Composed resources as Crossplane applied them, by composition-resource-name. */
  composed: Record<string, Json>;
  /** kind: Result objects (-r): the reconciler's events; a Fatal as { kind: Fatal, message }. */
  results: Json[];
  /** What the fake provider reported for them (the next pass's observed resources; {} on the last). */
  observed: Record<string, Json>;
}

export interface EngineOptions {
  composition: string;
  xrd: string;
  environment: Json;
  functions: Functions;
}

/** One `crossplane composition render` call: one real reconcile of the XR. */
async function renderOnce(dir: string, engine: EngineOptions, input: PassInput): Promise<Omit<EnginePass, 'observed'>> {
  const { pass, xr, observed } = input;
  const xrFile = path.join(dir, `xr-${pass}.yaml`);
  const envFile = path.join(dir, 'environment.yaml');
  const observedFile = path.join(dir, `observed-${pass}.yaml`);
  writeFileSync(xrFile, dump(xr));
  writeFileSync(envFile, dump(engine.environment));
  const args = [
    'composition',
    'render',
    xrFile,
    engine.composition,
    engine.functions.file,
    '--crossplane-binary',
    upstreamBinary('crossplane-core'),
    '--xrd',
    engine.xrd,
    '--required-resources',
    envFile,
    '-r',
    '--timeout',
    '90s',
  ];
  if (Object.keys(observed).length > 0) {
    writeFileSync(
      observedFile,
      Object.values(observed)
        .map((o) => `---\n${dump(o)}`)
        .join(''),
    );
    args.push('--observed-resources', observedFile);
  }
  const ran = await runUpstream('crossplane', args, { timeoutMs: 150_000 });
  writeFileSync(path.join(dir, `out-${pass}.yaml`), ran.stdout); // kept for reading a difference
  const docs = loadAll(ran.stdout).filter(isObject) as Json[];
  // A Fatal result: the CLI prints nothing and exits 1 with the step's message (cmd.go: render
  // returns the engine's error). Kept as the pass's one result, as our emulation reports it.
  const fatal = /returned a fatal result: (.*)$/s.exec(ran.stderr.trim());
  if (ran.code !== 0 && docs.length === 0 && fatal) return { xr: {}, composed: {}, results: [{ kind: 'Fatal', severity: 'Fatal', message: fatal[1]! }] };
  if (ran.code !== 0) throw new Error(`crossplane composition render (pass ${pass}) failed with ${ran.code}:\n${ran.stderr}`);
  const [out, ...rest] = docs;
  const composed: Record<string, Json> = {};
  const results: Json[] = [];
  for (const d of rest) {
    if (d['kind'] === 'Result' && String(d['apiVersion']).startsWith('render.crossplane.io/')) results.push(d);
    else composed[String(((d['metadata'] as Json)['annotations'] as Json)[RESOURCE_NAME])] = d;
  }
  return { xr: out ?? {}, composed, results };
}

/**
 * converge.ts's loop with the real engine reconciling each pass. The loop stops when a pass changes
 * neither the composed resources nor the XR status; with the engine the status holds the
 * reconciler's conditions too, so it runs until Ready settles as well. Returns the loop's result
 * and every pass the engine printed.
 */
export async function convergeWithEngine(
  composite: Json,
  engine: EngineOptions,
  opts: RenderOptions,
): Promise<{ rendered: RenderedClaim; passes: EnginePass[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'xp-render-'));
  const passes: EnginePass[] = [];
  const reconcilePass = async (input: PassInput): Promise<Reconciled> => {
    const previous = passes.at(-1);
    if (previous) previous.observed = input.observed;
    const out = await renderOnce(dir, engine, input);
    passes.push({ ...out, observed: {} });
    const fatal = out.results.find((r) => r['kind'] === 'Fatal');
    // claimConditionTypes is the reconciler's record of the conditions it copied to the claim; it
    // comes and goes on alternate calls (the engine prints the XR of the last status write), so it
    // is not a change of the desired state.
    const { claimConditionTypes: _bookkeeping, ...status } = (out.xr['status'] ?? {}) as Json;
    const results = out.results.map((r) => ({ severity: String(r['severity'] ?? ''), message: String(r['message'] ?? '') }));
    return { resources: out.composed, status, results, ...(fatal ? { fatal: String(fatal['message']) } : {}) };
  };
  const rendered = await convergeWith(reconcilePass, composite, opts);
  return { rendered, passes };
}
