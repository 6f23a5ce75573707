// Shared helpers for the server tests: requests, TLS client credentials, gRPC error
// assertions, and running the compiled server as a child process.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import ts from 'typescript';
import { expect } from '@jest/globals';
import { RunFunctionRequest, RunFunctionResponse, to } from '@crossplane-org/function-sdk-typescript';
import type { KeyPairPem, TestPki } from '../lib/certs.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FUNCTION_DIR = join(REPO_ROOT, 'functions/secure-bucket');

/** A request whose observed XR carries `payloadBytes` of status data (like a big observed resource). */
export function requestWithPayload(tag: string, payloadBytes = 0, marker = 'x'): RunFunctionRequest {
  return RunFunctionRequest.fromPartial({
    meta: { tag },
    observed: {
      composite: {
        resource: {
          apiVersion: 'platform.example.org/v1alpha1',
          kind: 'XSecureBucket',
          metadata: { name: `xr-${tag}` },
          status: { blob: marker.repeat(Math.ceil(payloadBytes / marker.length)) },
        },
      },
    },
  });
}

/** Echoes the observed XR into desired, so a big request makes an equally big response. */
export const echoHandler = async (req: RunFunctionRequest): Promise<RunFunctionResponse> => {
  const rsp = to(req);
  rsp.desired = { composite: req.observed?.composite, resources: {} };
  return rsp;
};

export function tlsClientCredentials(pki: TestPki, pair?: KeyPairPem): grpc.ChannelCredentials {
  const ca = Buffer.from(pki.ca.cert);
  return pair ? grpc.credentials.createSsl(ca, Buffer.from(pair.key), Buffer.from(pair.cert)) : grpc.credentials.createSsl(ca);
}

/**
 * The server certificate names localhost; the client dials 127.0.0.1. Naming the host for SNI and
 * verification keeps Node from sending an IP address as TLS ServerName (DEP0123, RFC 6066).
 */
export const TLS_CONNECT = { channelOptions: { 'grpc.ssl_target_name_override': 'localhost' } };

/** Asserts the promise rejects with a gRPC status `code` and returns the error for more checks. */
export async function expectGrpcError(call: Promise<unknown>, code: grpc.status): Promise<grpc.ServiceError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e as grpc.ServiceError,
  );
  expect(err).toBeDefined();
  expect(grpc.status[err!.code]).toBe(grpc.status[code]);
  return err!;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Child processes. Node 20 cannot run .ts files, so the server's sources are compiled with the
// TypeScript API (tsconfig.build.json's options, only main.ts and what it imports) into a temp
// directory that gets a `{"type":"module"}` package.json and a node_modules symlink to the
// repo's. This keeps the tests independent of dist/ and of other modules' type errors.

export interface CompiledServer {
  dir: string;
  /** Compiled src/main.js: the image's entry point. */
  mainJs: string;
  /** True when the lead's function.ts existed and was compiled (main.js can then run for real). */
  hasFunction: boolean;
  /** A script that runs runMain with a test handler (see FIXTURE). */
  fixtureJs: string;
  cleanup(): void;
}

// The test handler: a no-op, or sleeps `input.sleepMs` first. Reads the port from the log line.
const FIXTURE = `
import { runMain } from './functions/secure-bucket/src/main.js';
const handle = async (req) => {
  const ms = Number(req.input?.sleepMs ?? 0);
  // Tests wait for this line to know the call is in the handler (not for a fixed time).
  if (ms > 0) process.stderr.write(\`handling \${req.meta?.tag ?? ''}\\n\`);
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  return to(req);
};
process.exit(await runMain(process.argv.slice(2), handle, { shutdownGraceMs: Number(process.env.GRACE_MS ?? 10000) }));
`;

export function compileServer(): CompiledServer {
  const dir = mkdtempSync(join(tmpdir(), 'secure-bucket-server-'));
  const configPath = join(REPO_ROOT, 'tsconfig.build.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    { outDir: dir, noEmit: false, sourceMap: false },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!parsed) throw new Error(`cannot read ${configPath}`);
  const program = ts.createProgram([join(FUNCTION_DIR, 'src/main.ts')], parsed.options);
  const result = program.emit();
  if (result.emitSkipped) throw new Error('TypeScript emitted nothing for src/main.ts');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'fixture.mjs'), FIXTURE);
  const out = join(dir, 'functions/secure-bucket/src');
  return {
    dir,
    mainJs: join(out, 'main.js'),
    hasFunction: existsSync(join(out, 'function.js')),
    fixtureJs: join(dir, 'fixture.mjs'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RunningProcess {
  child: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startProcess(script: string, args: string[], env: NodeJS.ProcessEnv = {}): RunningProcess {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, TLS_SERVER_CERTS_DIR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString();
    waiters.forEach((w) => w());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('close', (code, signal) => {
      waiters.forEach((w) => w());
      res({ code, signal });
    }),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> =>
    new Promise((res, rej) => {
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}; output:\n${text}`)), timeoutMs);
      const check = (): void => {
        const m = text.match(pattern);
        if (m) done(undefined, m);
        else if (child.exitCode !== null || child.signalCode !== null) done(new Error(`process exited before ${pattern}; output:\n${text}`));
      };
      const done = (err?: Error, m?: RegExpMatchArray): void => {
        clearTimeout(timer);
        waiters.delete(check);
        if (err) rej(err);
        else res(m!);
      };
      waiters.add(check);
      check();
    });
  return { child, output: () => text, waitFor, exited };
}

/** Waits for the server's "listening" log line and returns the address it reports. */
export async function listeningAddress(proc: RunningProcess, timeoutMs?: number): Promise<string> {
  const [line] = await proc.waitFor(/^\{.*"msg":"function-secure-bucket listening".*\}$/m, timeoutMs);
  return (JSON.parse(line) as { address: string }).address;
}
