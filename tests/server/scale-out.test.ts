// Replicas share the load (issue 24): Crossplane dials the function's headless Service with a
// round-robin policy and resolves it again only when a connection breaks (crossplane#7585), so a
// replica added later gets no call until then. The server ends every connection after a bounded
// age: here two server processes on loopback addresses, a round-robin client whose resolver
// answers with the current replicas (as DNS would), a third replica added, and one drained.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { RunFunctionRequest, RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { roundRobinClient, type ReplicaSet } from '../../tools/grpc-load.js';
import { CONNECTION_LIMITS } from '../../functions/secure-bucket/src/server.js';
import { compileServer, listeningAddress, sleep, startProcess, type CompiledServer, type RunningProcess } from './harness.js';

const AGE_MS = 1500;
const GRACE_MS = 1000;

// A replica that answers with its name; connection limits shortened (production: server.ts CONNECTION_LIMITS).
const REPLICA = `
import { RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { runMain } from './functions/secure-bucket/src/main.js';
const handle = async (req) => {
  const ms = Number(req.input?.sleepMs ?? 0);
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  return RunFunctionResponse.fromPartial({ meta: { tag: req.meta?.tag ?? '' }, results: [{ message: process.env.REPLICA }] });
};
process.exit(await runMain(process.argv.slice(2), handle, {
  shutdownGraceMs: 10000,
  channelOptions: { 'grpc.max_connection_age_ms': ${AGE_MS}, 'grpc.max_connection_age_grace_ms': ${GRACE_MS} },
}));
`;

/** The "DNS" of the headless Service: the client (tools/grpc-load.ts) reads it only when grpc-js asks to resolve again. */
const service: ReplicaSet = { addresses: [] };

let compiled: CompiledServer;
const replicas = new Map<string, { proc: RunningProcess; host: string; port: number }>();

async function startReplica(name: string, host: string): Promise<void> {
  const proc = startProcess(join(compiled.dir, 'replica.mjs'), ['--insecure', '--address', `${host}:0`], { REPLICA: name });
  const address = await listeningAddress(proc);
  replicas.set(name, { proc, host, port: Number(address.split(':').pop()) });
}

beforeAll(async () => {
  compiled = compileServer();
  writeFileSync(join(compiled.dir, 'replica.mjs'), REPLICA);
  await Promise.all([startReplica('a', '127.0.0.1'), startReplica('b', '127.0.0.2')]);
}, 60_000);

afterAll(async () => {
  for (const { proc } of replicas.values()) proc.child.kill('SIGKILL');
  compiled?.cleanup();
});

describe('replicas share the load', () => {
  it('a replica added later receives calls within the connection age, and draining one fails no call', async () => {
    service.addresses = [...replicas.values()].map(({ host, port }) => ({ host, port }));
    // As Crossplane dials a function: one round-robin channel over the Service's addresses.
    const client = roundRobinClient('function-secure-bucket', service);
    const served: Array<{ at: number; by: string }> = [];
    const failures: string[] = [];
    const call = async (i: number): Promise<void> => {
      const req = Buffer.from(RunFunctionRequest.encode(RunFunctionRequest.fromPartial({ meta: { tag: `call-${i}` }, input: { sleepMs: 20 } })).finish());
      try {
        const rsp = RunFunctionResponse.decode(await client.call(req, 10_000));
        served.push({ at: Date.now(), by: rsp.results[0]?.message ?? '?' });
      } catch (e) {
        const err = e as grpc.ServiceError;
        failures.push(`${i}: ${grpc.status[err.code]} ${err.details}`);
      }
    };
    let running = true;
    let n = 0;
    // Four callers, one call in flight each, as long as the test runs.
    // A failing client must not spin: the test fails on the first failures anyway.
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (running && failures.length < 20) await call(n++);
      }),
    );
    const servedBy = (name: string, since = 0): number => served.filter((s) => s.by === name && s.at >= since).length;

    try {
      await sleep(500);
      expect([servedBy('a'), servedBy('b')].every((c) => c > 0)).toBe(true);

      // Scale out: the Service now also answers with c; nothing tells the client.
      await startReplica('c', '127.0.0.3');
      const added = Date.now();
      service.addresses = [...replicas.values()].map(({ host, port }) => ({ host, port }));
      const deadline = added + AGE_MS + GRACE_MS + 2000;
      while (servedBy('c') === 0 && Date.now() < deadline) await sleep(50);
      const firstByC = served.find((s) => s.by === 'c')?.at;
      expect(firstByC).toBeDefined();
      // Within one connection age (plus grace and the reconnect), not "until something breaks".
      expect(firstByC! - added).toBeLessThan(AGE_MS + GRACE_MS + 2000);

      // Drain a: SIGTERM (graceful shutdown: calls in flight finish), and the Service drops it.
      const drained = Date.now();
      const a = replicas.get('a')!;
      a.proc.child.kill('SIGTERM');
      service.addresses = service.addresses.filter((x) => x.host !== a.host);
      const exit = await a.proc.exited;
      expect(exit.code).toBe(0);
      await sleep(AGE_MS);
      expect([servedBy('b', drained + 500), servedBy('c', drained + 500)].every((c) => c > 0)).toBe(true);
      expect(servedBy('a', Date.now() - AGE_MS + 500)).toBe(0);
    } finally {
      running = false;
      await load;
      client.close();
    }
    expect(failures).toEqual([]);
    // Every replica took a share: the figure the bench reports as scaleOut.replicasServing.
    expect(new Set(served.map((s) => s.by))).toEqual(new Set(['a', 'b', 'c']));
  }, 60_000);
});

describe('the production connection limits', () => {
  it('end every connection within minutes, with a grace period for calls in flight', () => {
    // A replica added by the autoscaler is serving within about 2.5 minutes; the test above uses 1.5 s.
    expect(CONNECTION_LIMITS['grpc.max_connection_age_ms']).toBeLessThanOrEqual(300_000);
    expect(CONNECTION_LIMITS['grpc.max_connection_age_grace_ms']).toBeGreaterThanOrEqual(10_000);
  });
});
