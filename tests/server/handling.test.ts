// Message limits and failure handling: big requests pass, oversized ones are refused without
// harming the server, and a failing handler becomes a Fatal result (never a crash), logged
// without the request's content.

import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { RunFunctionRequest, Severity, State } from '@crossplane-org/function-sdk-typescript';
import { connectFunction, startLocalFunction, type LocalFunction } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { createLogger } from '../../functions/secure-bucket/src/logger.js';
import { DEFAULT_MAX_MESSAGE_BYTES, invokeSafely, type RunFunctionHandler } from '../../functions/secure-bucket/src/server.js';
import { echoHandler, expectGrpcError, requestWithPayload } from './harness.js';

const MiB = 1024 * 1024;
const running: LocalFunction[] = [];
const start = async (...args: Parameters<typeof startLocalFunction>): Promise<LocalFunction> => {
  const fn = await startLocalFunction(...args);
  running.push(fn);
  return fn;
};
afterAll(async () => {
  await Promise.all(running.map((fn) => fn.stop()));
});

describe('message limits', () => {
  it('defaults to 64 MiB', () => {
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBe(64 * MiB);
  });

  it('serves a 10 MiB request and returns a 10 MiB response (gRPC alone caps at 4 MiB)', async () => {
    const fn = await start(echoHandler);
    const req = requestWithPayload('big', 10 * MiB);
    expect(RunFunctionRequest.encode(req).finish().length).toBeGreaterThan(10 * MiB);
    const rsp = await fn.client.runFunction(req, 20_000);
    const blob = (rsp.desired?.composite?.resource as { status: { blob: string } }).status.blob;
    expect(blob.length).toBe(10 * MiB);
  });

  it('refuses a request over the configured limit with RESOURCE_EXHAUSTED, then keeps serving', async () => {
    let handled = 0;
    const fn = await start(
      async (req) => {
        handled++;
        return echoHandler(req);
      },
      { maxMessageBytes: 1 * MiB },
    );
    // A client with the default 64 MiB limit, so the server is the one refusing.
    const client = connectFunction(fn.address);
    try {
      const err = await expectGrpcError(client.runFunction(requestWithPayload('too-big', 2 * MiB), 10_000), grpc.status.RESOURCE_EXHAUSTED);
      expect(err.details).toMatch(/larger than max/i);
      expect(handled).toBe(0);
      const rsp = await client.runFunction(requestWithPayload('small-after', 1024), 5000);
      expect(rsp.meta?.tag).toBe('small-after');
      expect(handled).toBe(1);
    } finally {
      client.close();
    }
  });
});

describe('a failing handler', () => {
  const SECRET = 'CLAIM-BODY-MARKER-5f2c';
  const failures: Array<[string, RunFunctionHandler]> = [
    [
      'throws an Error',
      () => {
        throw new Error('boom');
      },
    ],
    ['rejects', () => Promise.reject(new Error('boom'))],
    [
      'throws a string',
      () => {
        throw 'boom';
      },
    ],
    ['resolves to undefined', () => Promise.resolve(undefined as never)],
  ];

  let lines: string[] = [];
  afterEach(() => {
    lines = [];
  });

  it.each(failures)('that %s yields a Fatal result and the server keeps serving', async (_label, failing) => {
    const fn = await start((req) => (req.meta?.tag === 'fail' ? failing(req) : echoHandler(req)), {
      logger: createLogger('debug', (line) => lines.push(line)),
    });
    const failed = await fn.client.runFunction(requestWithPayload('fail', 64, SECRET), 5000);
    expect(failed.results).toHaveLength(1);
    expect(failed.results[0]!.severity).toBe(Severity.SEVERITY_FATAL);
    expect(failed.results[0]!.message).toMatch(/boom|undefined/);
    expect(failed.meta?.tag).toBe('fail');

    const ok = await fn.client.runFunction(requestWithPayload('ok'), 5000);
    expect(ok.results).toEqual([]);
    expect(ok.meta?.tag).toBe('ok');

    // Logged, with the XR's identity, but nothing of its content (even at debug level).
    const errors = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ tag: 'fail', composite: 'platform.example.org/v1alpha1/XSecureBucket/xr-fail' });
    expect(lines.join('')).not.toContain(SECRET);
  });

  it('that returns a response protobuf cannot encode yields a Fatal result, not a bare INTERNAL error', async () => {
    const fn = await start(async (req) => {
      const rsp = await echoHandler(req);
      if (req.meta?.tag === 'unencodable') rsp.desired = State.fromPartial({ composite: { resource: { big: 10n } } });
      return rsp;
    });
    const rsp = await fn.client.runFunction(requestWithPayload('unencodable'), 5000);
    expect(rsp.meta?.tag).toBe('unencodable');
    expect(rsp.results.map((r) => [r.severity, r.message])).toEqual([[Severity.SEVERITY_FATAL, expect.stringMatching(/cannot be serialized/)]]);
    expect((await fn.client.runFunction(requestWithPayload('next'), 5000)).meta?.tag).toBe('next');
  });

  it('never rejects, even when the handler throws synchronously', async () => {
    const rsp = await invokeSafely(() => {
      throw new TypeError('sync');
    }, requestWithPayload('direct'));
    expect(rsp.results.map((r) => r.severity)).toEqual([Severity.SEVERITY_FATAL]);
  });
});
