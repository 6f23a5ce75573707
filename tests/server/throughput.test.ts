// Sequential RunFunction calls of a no-op handler over real gRPC on loopback for 2 s: the
// server's own overhead per call. The floor is far below what this machine does (NOTES.md
// measured 1.0-1.7k req/s); it catches an accidental per-call delay, not small regressions.

import { describe, expect, it } from '@jest/globals';
import { to } from '@crossplane-org/function-sdk-typescript';
import { startLocalFunction } from '../../functions/secure-bucket/src/client.js';
import { requestWithPayload } from './harness.js';

describe('throughput', () => {
  it('serves a no-op handler sequentially at > 200 requests/s', async () => {
    const fn = await startLocalFunction(async (req) => to(req));
    try {
      const req = requestWithPayload('noop', 256);
      await fn.client.runFunction(req); // connect and warm up outside the window
      let calls = 0;
      const started = performance.now();
      while (performance.now() - started < 2000) {
        const rsp = await fn.client.runFunction(req);
        if (rsp.meta?.tag === 'noop') calls++;
      }
      const perSecond = Math.round(calls / ((performance.now() - started) / 1000));
      console.log(`no-op RunFunction, sequential, loopback: ${perSecond} req/s`);
      expect(perSecond).toBeGreaterThan(200);
    } finally {
      await fn.stop();
    }
  });
});
