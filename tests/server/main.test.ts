// The entry point: flags, in-process runMain (signals from an EventEmitter), and the compiled
// server as a real child process (bind failure, missing certificates, SIGTERM mid-request).

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { RunFunctionRequest, to } from '@crossplane-org/function-sdk-typescript';
import { connectFunction, type FunctionClient } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { createLogger } from '../../functions/secure-bucket/src/logger.js';
import { DEFAULT_ADDRESS, EXIT, parseMainArgs, runMain, UsageError, type RunMainOptions } from '../../functions/secure-bucket/src/main.js';
import type { RunFunctionHandler } from '../../functions/secure-bucket/src/server.js';
import { createTestPki, writeServerCertsDir, type TestPki } from '../lib/certs.js';
import {
  compileServer,
  expectGrpcError,
  listeningAddress,
  requestWithPayload,
  startProcess,
  TLS_CONNECT,
  tlsClientCredentials,
  type CompiledServer,
} from './harness.js';

const slowRequest = (tag: string, sleepMs: number): RunFunctionRequest => RunFunctionRequest.fromPartial({ meta: { tag }, input: { sleepMs } });

let pki: TestPki;
let certsDir: string;
beforeAll(() => {
  pki = createTestPki();
  certsDir = writeServerCertsDir(mkdtempSync(join(tmpdir(), 'sb-main-')), pki);
});
afterAll(() => rmSync(certsDir, { recursive: true, force: true }));

describe('parseMainArgs', () => {
  it('defaults to 0.0.0.0:9443 with mTLS from /tls/server', () => {
    expect(parseMainArgs([], {})).toEqual({
      address: DEFAULT_ADDRESS,
      tlsCertsDir: '/tls/server',
      insecure: false,
      debug: false,
      maxMessageBytes: 64 * 1024 * 1024,
      cacheBytes: 32 * 1024 * 1024,
      metricsAddress: undefined,
      maxConnectionAgeMs: 120_000,
      help: false,
    });
    expect(DEFAULT_ADDRESS).toBe('0.0.0.0:9443');
  });

  it('takes the certificate directory from TLS_SERVER_CERTS_DIR, and a flag over that', () => {
    expect(parseMainArgs([], { TLS_SERVER_CERTS_DIR: '/env/certs' }).tlsCertsDir).toBe('/env/certs');
    expect(parseMainArgs(['--tls-certs-dir', '/flag'], { TLS_SERVER_CERTS_DIR: '/env/certs' }).tlsCertsDir).toBe('/flag');
    expect(parseMainArgs(['--insecure'], { TLS_SERVER_CERTS_DIR: '/env/certs' }).tlsCertsDir).toBeUndefined();
  });

  it.each([
    [['--bogus']],
    [['--max-message-bytes', '0']],
    [['--max-message-bytes', '1e6']],
    [['--max-message-bytes', String(2 ** 31)]],
    [['--insecure', '--tls-certs-dir', '/x']],
    [['positional']],
  ])('rejects %j', (argv) => {
    expect(() => parseMainArgs(argv, {})).toThrow(UsageError);
  });
});

describe('runMain in-process', () => {
  interface Started {
    address: string;
    signals: EventEmitter;
    lines: string[];
    exit: Promise<number>;
  }
  const start = async (argv: string[], handle: RunFunctionHandler, opts: RunMainOptions = {}): Promise<Started> => {
    const signals = new EventEmitter();
    const lines: string[] = [];
    let listening!: (address: string) => void;
    const ready = new Promise<string>((r) => (listening = r));
    const exit = runMain(argv, handle, {
      signals,
      logger: createLogger('info', (l) => lines.push(l)),
      onListening: listening,
      ...opts,
    });
    const address = await Promise.race([ready, exit.then((code) => Promise.reject(new Error(`exited ${code}: ${lines.join('')}`)))]);
    return { address, signals, lines, exit };
  };
  const clients: FunctionClient[] = [];
  afterAll(() => clients.forEach((c) => c.close()));
  const client = (address: string, creds?: grpc.ChannelCredentials): FunctionClient => {
    const c = connectFunction(address, creds, TLS_CONNECT);
    clients.push(c);
    return c;
  };

  it('serves mTLS, logs one info line with the bound port, and exits 0 on SIGTERM', async () => {
    const s = await start(['--address', '127.0.0.1:0', '--tls-certs-dir', certsDir], async (req) => to(req));
    expect(s.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    const info = s.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(info).toEqual([expect.objectContaining({ level: 'info', address: s.address, tls: 'mutual' })]);

    const rsp = await client(s.address, tlsClientCredentials(pki, pki.client)).runFunction(requestWithPayload('m'), 5000);
    expect(rsp.meta?.tag).toBe('m');
    s.signals.emit('SIGTERM');
    expect(await s.exit).toBe(EXIT.ok);
  });

  it('lets an in-flight request finish after SIGTERM, and refuses new connections', async () => {
    let started!: () => void;
    const inFlight = new Promise<void>((r) => (started = r));
    // The slow call is held in the handler until the late one was refused: ordered by events, not by sleeps.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const s = await start(['--address', '127.0.0.1:0', '--insecure'], async (req) => {
      started();
      await released;
      return to(req);
    });
    const call = client(s.address).runFunction(RunFunctionRequest.fromPartial({ meta: { tag: 'slow' } }), 10_000);
    await inFlight;
    s.signals.emit('SIGTERM');
    await expectGrpcError(client(s.address).runFunction(requestWithPayload('late'), 2000), grpc.status.UNAVAILABLE);
    release();
    expect((await call).meta?.tag).toBe('slow');
    expect(await s.exit).toBe(EXIT.ok);
  });

  it('cancels what is still running when the grace period ends', async () => {
    // Shut down only once the call is in the handler: a fixed sleep raced the call's arrival on a
    // loaded machine, and a call that had not arrived ended in DEADLINE_EXCEEDED, not a cancellation.
    let started!: () => void;
    const inHandler = new Promise<void>((r) => (started = r));
    const s = await start(['--address', '127.0.0.1:0', '--insecure'], () => (started(), new Promise(() => undefined)), { shutdownGraceMs: 200 });
    const call = client(s.address).runFunction(requestWithPayload('stuck'), 10_000);
    await inHandler;
    const t0 = Date.now();
    s.signals.emit('SIGINT');
    expect(await s.exit).toBe(EXIT.ok);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    const err = await call.then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect([grpc.status.UNAVAILABLE, grpc.status.CANCELLED, grpc.status.INTERNAL]).toContain(err?.code);
    expect(JSON.parse(s.lines.at(-1)!)).toMatchObject({ msg: 'stopped', how: 'forced' });
  });

  it('returns 1 and names the missing file when a certificate is absent', async () => {
    const partial = writeServerCertsDir(mkdtempSync(join(tmpdir(), 'sb-partial-')), pki);
    unlinkSync(join(partial, 'ca.crt'));
    const lines: string[] = [];
    try {
      const code = await runMain(['--address', '127.0.0.1:0', '--tls-certs-dir', partial], async (req) => to(req), {
        signals: new EventEmitter(),
        logger: createLogger('info', (l) => lines.push(l)),
      });
      expect(code).toBe(EXIT.failure);
      expect(lines.join('')).toContain(`${join(partial, 'ca.crt')}: ENOENT`);
      expect(lines.join('')).not.toContain('tls.key:');
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  });

  it('returns 2 with the help text on a bad flag', async () => {
    let err = '';
    const code = await runMain(['--adress', 'x'], async (req) => to(req), { writeErr: (t) => (err += t) });
    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(/--adress[\s\S]*Usage: function-secure-bucket/);
  });
});

describe('the compiled server as a child process', () => {
  let compiled: CompiledServer;
  beforeAll(() => {
    compiled = compileServer();
  }, 60_000);
  afterAll(() => compiled?.cleanup());

  it('exits non-zero when the port is taken', async () => {
    const blocker: NetServer = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const proc = startProcess(compiled.fixtureJs, ['--insecure', '--address', `127.0.0.1:${port}`]);
      const { code } = await proc.exited;
      expect(code).toBe(EXIT.failure);
      expect(proc.output()).toContain(`cannot listen on 127.0.0.1:${port}`);
    } finally {
      blocker.close();
    }
  });

  it('exits non-zero and names the missing files when certificates are absent', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sb-empty-'));
    try {
      const proc = startProcess(compiled.fixtureJs, ['--address', '127.0.0.1:0'], { TLS_SERVER_CERTS_DIR: empty });
      const { code } = await proc.exited;
      expect(code).toBe(EXIT.failure);
      for (const file of ['tls.key', 'tls.crt', 'ca.crt']) expect(proc.output()).toContain(join(empty, file));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('finishes a slow request after SIGTERM, then exits 0', async () => {
    const proc = startProcess(compiled.fixtureJs, ['--insecure', '--address', '127.0.0.1:0']);
    const c = connectFunction(await listeningAddress(proc));
    try {
      const t0 = Date.now();
      const call = c.runFunction(slowRequest('slow', 1500), 10_000);
      await proc.waitFor(/^handling slow$/m);
      proc.child.kill('SIGTERM');
      const rsp = await call;
      expect(rsp.meta?.tag).toBe('slow');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(proc.output()).toMatch(/"signal":"SIGTERM"[^\n]*"msg":"shutting down"[\s\S]*"how":"graceful"/);
    } finally {
      c.close();
    }
  });

  it('serves mTLS clients when started like Crossplane starts it (no flags, TLS_SERVER_CERTS_DIR)', async () => {
    // Only the address differs from the pod: 9443 may be in use here.
    const proc = startProcess(compiled.fixtureJs, ['--address', '127.0.0.1:0'], { TLS_SERVER_CERTS_DIR: certsDir });
    const address = await listeningAddress(proc);
    const c = connectFunction(address, tlsClientCredentials(pki, pki.client), TLS_CONNECT);
    try {
      expect((await c.runFunction(requestWithPayload('tls'), 5000)).meta?.tag).toBe('tls');
    } finally {
      c.close();
      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
    }
  });

  it('runs the real function from the compiled main.js (needs src/function.ts)', async () => {
    if (!compiled.hasFunction) {
      throw new Error('functions/secure-bucket/src/function.ts does not exist yet: main.js has no function to serve');
    }
    const proc = startProcess(compiled.mainJs, ['--insecure', '--address', '127.0.0.1:0']);
    const c = connectFunction(await listeningAddress(proc));
    try {
      // The step input reaches the function: it asks Crossplane for the EnvironmentConfig it names.
      const req = RunFunctionRequest.fromPartial({ ...requestWithPayload('real'), input: { environmentConfigName: 'custom-env' } });
      const rsp = await c.runFunction(req, 10_000);
      // Cold start is a figure for `make bench`, not an assertion here.
      expect(rsp.meta?.tag).toBe('real');
      expect(JSON.stringify(rsp.requirements)).toContain('"matchName":"custom-env"');
    } finally {
      c.close();
      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
    }
  });
});
