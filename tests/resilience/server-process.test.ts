// The compiled server (main.js with the real function, as the image runs it) under hostile
// input and faults, on loopback: garbage bytes and truncated HTTP/2 frames, broken gRPC
// messages, an over-limit request, 32 concurrent clients, and SIGTERM under load. After each
// attack a valid request still gets the exact response; info logs never carry request content.
// Not repeated here (tests/server proves them exactly): mTLS refusals (mtls.test.ts), a real
// over-limit body on an in-process server and handler failures as Fatal results (handling.test.ts),
// one slow request finishing after SIGTERM and bind/certificate failures (main.test.ts).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { RunFunctionRequest, RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { runFunction } from '../../functions/secure-bucket/src/function.js';
import { claimOf } from '../../tools/claim-generator.js';
import { rawClient, type RawClient } from '../../tools/grpc-load.js';
import { exampleEnvironment, exampleRequests, requestFor } from '../../tools/workload.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { compileServer, listeningAddress, sleep, startProcess, type CompiledServer, type RunningProcess } from '../server/harness.js';
import { FLAG, FRAME, frame, grpcMessage, HTTP2_PREFACE, sendRaw, sendStream } from './wire.js';

const MARKER = 'zq-secret-marker-41d9';
const MiB = 1024 * 1024;

interface Valid {
  name: string;
  payload: Buffer;
  expected: Buffer;
}
let compiled: CompiledServer;
let valid: Valid[];
const started: RunningProcess[] = [];
const clients: RawClient[] = [];

async function serve(args: string[] = []): Promise<{ proc: RunningProcess; address: string; client: RawClient }> {
  const proc = startProcess(compiled.mainJs, ['--insecure', '--address', '127.0.0.1:0', ...args]);
  started.push(proc);
  const address = await listeningAddress(proc, 20_000);
  const client = rawClient(address);
  clients.push(client);
  return { proc, address, client };
}

/** The server answers every example claim with exactly the function's own response. */
async function expectServing(client: RawClient): Promise<void> {
  for (const v of valid) expect({ name: v.name, same: (await client.call(v.payload, 10_000)).equals(v.expected) }).toEqual({ name: v.name, same: true });
}

beforeAll(async () => {
  compiled = compileServer();
  if (!compiled.hasFunction) throw new Error('functions/secure-bucket/src/function.ts was not compiled: main.js has no function to serve');
  valid = await Promise.all(
    (await exampleRequests()).map(async ({ name, request }) => ({
      name,
      payload: Buffer.from(RunFunctionRequest.encode(request).finish()),
      expected: Buffer.from(RunFunctionResponse.encode(await runFunction(request)).finish()),
    })),
  );
}, 120_000);

afterAll(async () => {
  clients.forEach((c) => c.close());
  for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  compiled?.cleanup();
});

describe('hostile bytes on the gRPC port', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  const ourPorts: number[] = [];
  beforeAll(async () => {
    server = await serve();
  }, 30_000);

  const attacks: Array<[string, () => Buffer]> = [
    ['random bytes (not even a preface)', () => randomBytes(4096)],
    ['a preface, then random bytes', () => Buffer.concat([HTTP2_PREFACE, randomBytes(2048)])],
    [
      'a frame header that promises 16 KiB and sends 10 bytes',
      () => Buffer.concat([HTTP2_PREFACE, frame(FRAME.SETTINGS, 0, 0, Buffer.alloc(0)), frame(FRAME.HEADERS, FLAG.END_HEADERS, 1, randomBytes(10), 16_384)]),
    ],
    [
      'a frame over the maximum frame size',
      () => Buffer.concat([HTTP2_PREFACE, frame(FRAME.SETTINGS, 0, 0, Buffer.alloc(0)), frame(FRAME.DATA, 0, 1, Buffer.alloc(0), 0xffffff)]),
    ],
    [
      'HEADERS with a garbage header block',
      () =>
        Buffer.concat([
          HTTP2_PREFACE,
          frame(FRAME.SETTINGS, 0, 0, Buffer.alloc(0)),
          frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, randomBytes(64)),
        ]),
    ],
    ['a truncated preface', () => HTTP2_PREFACE.subarray(0, 11)],
  ];

  it.each(attacks)('survives %s, ten times over', async (_label, bytes) => {
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => sendRaw(server.address, bytes(), { halfClose: true, waitMs: 3000 })));
    ourPorts.push(...outcomes.flatMap((o) => (o.localPort === undefined ? [] : [o.localPort])));
    // The server refuses every one: it hangs up or answers with a GOAWAY. A peer that stays silent
    // keeps its socket until the keepalive or idle limit (tests/server/connections.test.ts).
    expect(outcomes.filter((o) => !o.closedByServer && o.bytesReceived === 0)).toEqual([]);
    await expectServing(server.client);
  });

  it.each<[string, () => Buffer, grpc.status | undefined]>([
    ['a message cut short (prefix says 1000 bytes, 100 sent, stream ended)', () => grpcMessage(randomBytes(100), { declaredLength: 1000 }), undefined],
    ['bytes that are not a RunFunctionRequest', () => grpcMessage(Buffer.alloc(64, 0xff)), undefined],
    ['a length prefix of 2 GiB', () => grpcMessage(Buffer.alloc(16), { declaredLength: 0x7fffffff }), grpc.status.RESOURCE_EXHAUSTED],
  ])('answers %s with an error status', async (_label, message, code) => {
    const outcome = await sendStream(server.address, [message()]);
    expect(outcome.grpcStatus).toBeDefined();
    expect(outcome.grpcStatus).not.toBe(grpc.status.OK);
    if (code !== undefined) expect(grpc.status[outcome.grpcStatus!]).toBe(grpc.status[code]);
    await expectServing(server.client);
  });

  it('answers a message flagged compressed without a negotiated compression (grpc-js reads it as is)', async () => {
    const outcome = await sendStream(server.address, [grpcMessage(valid0(), { compressed: true })]);
    expect(outcome.grpcStatus).toBeDefined();
    await expectServing(server.client);
  });

  it('survives clients that cancel a stream or drop the connection mid-request', async () => {
    const half = valid0().subarray(0, 500);
    await Promise.all([
      ...Array.from({ length: 10 }, () => sendStream(server.address, [grpcMessage(half, { declaredLength: valid0().length })], { abortAfterMs: 20 })),
      ...Array.from({ length: 10 }, () =>
        sendStream(server.address, [grpcMessage(half, { declaredLength: valid0().length })], { destroySession: true, abortAfterMs: 20 }),
      ),
    ]);
    await expectServing(server.client);
  });

  it('logs nothing at info level about these requests: no content, no client addresses', async () => {
    // Content the server must never log: in the claim, the observed connection details, the environment.
    const env = exampleEnvironment();
    (env['data'] as Record<string, unknown>)['clusterName'] = `bad ${MARKER}`;
    const composite = compositeForClaim(
      claimOf('leaky', 'team-logs', { consumers: [{ name: 'x', serviceAccount: 'x', access: 'Read', prefixes: [`${MARKER}/`] }] }),
    );
    const leaky = [
      requestFor('leaky-valid', composite, exampleEnvironment()),
      requestFor('leaky-invalid', { ...composite, spec: { naming: { strategy: 'Fixed', name: MARKER } } }, exampleEnvironment()),
      requestFor('leaky-env', composite, env),
    ];
    leaky[0]!.observed!.resources['bucket'] = { resource: { kind: 'Bucket' }, connectionDetails: { password: Buffer.from(MARKER) }, ready: 0 };
    for (const req of leaky) await server.client.call(Buffer.from(RunFunctionRequest.encode(req).finish()), 10_000);

    const lines = server.proc
      .output()
      .split('\n')
      .filter((l) => l.trim() !== '');
    const logs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    // The only info line while serving is the start-up line; no per-request or per-connection lines.
    expect(logs.map((l) => [l['level'], l['msg']])).toEqual([['info', 'function-secure-bucket listening']]);
    const text = lines.join('\n');
    expect(text).not.toContain(MARKER);
    expect(ourPorts.length).toBeGreaterThan(0);
    for (const port of ourPorts) expect(text).not.toMatch(new RegExp(`[^0-9]${port}[^0-9]`));
  });
});

/** The first example claim's request bytes (a well-formed message to cut or mislabel). */
function valid0(): Buffer {
  return valid[0]!.payload;
}

describe('requests over the size limit (--max-message-bytes)', () => {
  it('refuses a 2 MiB request with RESOURCE_EXHAUSTED when the limit is 1 MiB, then serves', async () => {
    const { client } = await serve(['--max-message-bytes', String(1 * MiB)]);
    const big = RunFunctionRequest.fromPartial({ ...RunFunctionRequest.decode(valid0()), context: { filler: 'x'.repeat(2 * MiB) } });
    const err = await client.call(Buffer.from(RunFunctionRequest.encode(big).finish()), 10_000).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(err && grpc.status[err.code]).toBe(grpc.status[grpc.status.RESOURCE_EXHAUSTED]);
    await expectServing(client);
  }, 30_000);
});

describe('32 concurrent clients', () => {
  it('get the exact response to every valid request for 3 s, beside garbage connections', async () => {
    const { address, client } = await serve();
    const own = Array.from({ length: 32 }, () => rawClient(address, { ownConnection: true }));
    clients.push(...own);
    const until = Date.now() + 3000;
    let ok = 0;
    const wrong: string[] = [];
    const failures: string[] = [];
    const garbage = (async () => {
      for (let i = 0; i < 30 && Date.now() < until; i++) await sendRaw(address, randomBytes(512), { halfClose: true, waitMs: 1000 });
    })();
    await Promise.all(
      own.map(async (c, i) => {
        for (let n = 0; n < 1000 && Date.now() < until; n++) {
          const v = valid[(i + n) % valid.length]!;
          try {
            if ((await c.call(v.payload, 10_000)).equals(v.expected)) ok++;
            else wrong.push(v.name);
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      }),
    );
    await garbage;
    expect({ failures: failures.slice(0, 5), wrong: wrong.slice(0, 5) }).toEqual({ failures: [], wrong: [] });
    expect(ok).toBeGreaterThan(32);
    await expectServing(client);
  }, 30_000);
});

describe('SIGTERM under load', () => {
  it('finishes the calls in flight, refuses new ones cleanly, and exits 0 within the grace period', async () => {
    const { proc, address } = await serve();
    const own = Array.from({ length: 32 }, () => rawClient(address, { ownConnection: true }));
    clients.push(...own);
    const calls: Array<{ start: number; end: number; code: grpc.status | 'ok' | 'wrong' }> = [];
    let signalledAt = Number.POSITIVE_INFINITY;
    const load = Promise.all(
      own.map(async (c, i) => {
        // Each client keeps one call in flight until the server turns it away.
        for (let n = 0; n < 5000; n++) {
          const v = valid[(i + n) % valid.length]!;
          const start = performance.now();
          try {
            const same = (await c.call(v.payload, 10_000)).equals(v.expected);
            calls.push({ start, end: performance.now(), code: same ? 'ok' : 'wrong' });
          } catch (err) {
            calls.push({ start, end: performance.now(), code: (err as grpc.ServiceError).code });
            if (start > signalledAt) return;
          }
        }
      }),
    );
    await sleep(1000);
    signalledAt = performance.now();
    proc.child.kill('SIGTERM');
    const exit = await proc.exited;
    const exitMs = performance.now() - signalledAt;
    await load;

    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(10_000); // main.ts's grace period
    expect(proc.output()).toMatch(/"how":"graceful"/);
    const before = calls.filter((c) => c.start < signalledAt);
    const inFlight = before.filter((c) => c.end > signalledAt);
    // In flight when the signal came: answered in full, not cut off.
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlight.filter((c) => c.code !== 'ok')).toEqual([]);
    expect(before.filter((c) => c.code !== 'ok')).toEqual([]);
    // After it: either answered, or refused as UNAVAILABLE (never reached the handler).
    const after = calls.filter((c) => c.start >= signalledAt);
    expect(after.filter((c) => c.code !== 'ok' && c.code !== grpc.status.UNAVAILABLE)).toEqual([]);
  }, 40_000);
});
