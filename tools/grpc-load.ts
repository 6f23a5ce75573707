// A closed-loop load generator over real gRPC: `concurrency` calls in flight on one channel (as
// Crossplane keeps one connection per function), each sending pre-encoded request bytes and
// keeping the response bytes, so the generator's own protobuf work stays out of the server's way.
import * as grpc from '@grpc/grpc-js';
import { FunctionRunnerServiceService } from '@crossplane-org/function-sdk-typescript';
import { messageLimits } from '../functions/secure-bucket/src/server.js';

const RUN_FUNCTION_PATH = FunctionRunnerServiceService.runFunction.path;
const identity = (b: Buffer): Buffer => b;

export interface RawClient {
  call(payload: Buffer, deadlineMs?: number): Promise<Buffer>;
  close(): void;
}

/** `ownConnection`: a connection of its own, not one shared with other clients of the same address. */
export function rawClient(address: string, opts: { creds?: grpc.ChannelCredentials; ownConnection?: boolean } = {}): RawClient {
  const client = new grpc.Client(address, opts.creds ?? grpc.credentials.createInsecure(), {
    ...messageLimits(),
    ...(opts.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
  });
  return {
    call: (payload, deadlineMs = 30_000) =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(RUN_FUNCTION_PATH, identity, identity, payload, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, rsp) => {
          if (err) reject(err);
          else resolve(rsp as Buffer);
        });
      }),
    close: () => client.close(),
  };
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** One response, for the caller to check it is what it expects. */
  sample?: Buffer;
  /** Every call's latency in ms, for merging windows. */
  latencies: number[];
}

export interface LoadOptions {
  concurrency: number;
  /** Stops at whichever comes first. */
  durationMs: number;
  maxRequests?: number;
  /** Calls before the clock starts (connection set-up, JIT). */
  warmupRequests?: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Sends `payloads` round-robin; each worker keeps exactly one call in flight. */
export async function runLoad(client: RawClient, payloads: Buffer[], opts: LoadOptions): Promise<LoadResult> {
  if (payloads.length === 0) throw new Error('runLoad needs at least one payload');
  const warmup = opts.warmupRequests ?? 0;
  for (let i = 0; i < warmup; i += opts.concurrency) {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, warmup - i) }, (_, j) => client.call(payloads[(i + j) % payloads.length]!)));
  }
  const max = opts.maxRequests ?? Number.MAX_SAFE_INTEGER;
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  let sample: Buffer | undefined;
  const started = performance.now();
  const deadline = started + opts.durationMs;
  const worker = async (): Promise<void> => {
    while (issued < max && performance.now() < deadline) {
      const payload = payloads[issued++ % payloads.length]!;
      const t0 = performance.now();
      try {
        const rsp = await client.call(payload);
        sample ??= rsp;
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return summarise(latencies, errors, (performance.now() - started) / 1000, sample);
}

function summarise(latencies: number[], errors: number, seconds: number, sample: Buffer | undefined): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    latencies,
    ...(sample ? { sample } : {}),
  };
}

/** Several windows as one: requests and time add up, percentiles over every call. */
export function mergeLoads(windows: LoadResult[]): LoadResult {
  return summarise(
    windows.flatMap((w) => w.latencies),
    windows.reduce((n, w) => n + w.errors, 0),
    windows.reduce((s, w) => s + w.seconds, 0),
    windows.find((w) => w.sample)?.sample,
  );
}

/**
 * Loads two servers in alternating short windows, so background load on a shared machine falls
 * on both alike and their ratio stays meaningful.
 */
export async function compareInterleaved(
  a: RawClient,
  b: RawClient,
  payloads: Buffer[],
  opts: LoadOptions & { rounds: number },
): Promise<{ a: LoadResult; b: LoadResult }> {
  const window = { ...opts, durationMs: opts.durationMs / opts.rounds, warmupRequests: 0 };
  await runLoad(a, payloads, { ...window, maxRequests: 0, warmupRequests: opts.warmupRequests ?? 0 });
  await runLoad(b, payloads, { ...window, maxRequests: 0, warmupRequests: opts.warmupRequests ?? 0 });
  const as: LoadResult[] = [];
  const bs: LoadResult[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    as.push(await runLoad(a, payloads, window));
    bs.push(await runLoad(b, payloads, window));
  }
  return { a: mergeLoads(as), b: mergeLoads(bs) };
}

/** The addresses a headless Service answers with now; the client reads them only when grpc-js resolves again. */
export interface ReplicaSet {
  addresses: Array<{ host: string; port: number }>;
}

const replicaSets = new Map<string, ReplicaSet>();
/** At most one resolution per window, as grpc-js's DNS resolver (grpc.dns_min_time_between_resolutions_ms). */
const MIN_BETWEEN_RESOLUTIONS_MS = 200;

class ReplicaSetResolver {
  private last = 0;
  private pending: NodeJS.Timeout | undefined;
  private readonly set: ReplicaSet;
  constructor(
    target: { path: string },
    private readonly listener: (
      endpoints: { ok: true; value: Array<{ addresses: Array<{ host: string; port: number }> }> },
      attributes: object,
      serviceConfig: null,
      note: string,
    ) => boolean,
  ) {
    const set = replicaSets.get(target.path.replace(/^\//, ''));
    if (!set) throw new Error(`no replica set ${target.path}`);
    this.set = set;
  }
  updateResolution(): void {
    if (this.pending) return;
    const wait = Math.max(0, this.last + MIN_BETWEEN_RESOLUTIONS_MS - Date.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.last = Date.now();
      this.listener({ ok: true, value: this.set.addresses.map((a) => ({ addresses: [a] })) }, {}, null, '');
    }, wait);
  }
  destroy(): void {
    clearTimeout(this.pending);
  }
  static getDefaultAuthority(): string {
    return 'function-secure-bucket';
  }
}
grpc.experimental.registerResolver('replica-set', ReplicaSetResolver as unknown as Parameters<typeof grpc.experimental.registerResolver>[1]);

/**
 * A client as Crossplane dials a function: one channel over every address the Service resolves to,
 * round-robin, resolving again only when grpc-js asks (a connection ended or failed).
 */
export function roundRobinClient(name: string, set: ReplicaSet): RawClient {
  replicaSets.set(name, set);
  const client = new grpc.Client(`replica-set:///${name}`, grpc.credentials.createInsecure(), {
    ...messageLimits(),
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    'grpc.use_local_subchannel_pool': 1,
  });
  return {
    call: (payload, deadlineMs = 30_000) =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(RUN_FUNCTION_PATH, identity, identity, payload, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, rsp) => {
          if (err) reject(err);
          else resolve(rsp as Buffer);
        });
      }),
    close: () => {
      client.close();
      replicaSets.delete(name);
    },
  };
}
