// `make bench`: every figure measured in one run on this machine, printed as one table and written
// to bench/results.json. Needs the build (dist/): node dist/bench/run.js [--quick]
//   --quick: shorter windows and smaller counts, to check the bench itself works (writes no results).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunFunctionRequest, RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { runFunction } from '../functions/secure-bucket/src/function.js';
import { connectFunction } from '../functions/secure-bucket/cli/control-plane/index.js';
import { compositeForClaim } from '../functions/secure-bucket/cli/control-plane/index.js';
import { renderClaim } from '../functions/secure-bucket/cli/control-plane/index.js';
import { generateClaims } from '../tools/claim-generator.js';
import { compareInterleaved, rawClient, roundRobinClient, runLoad, type LoadResult, type RawClient, type ReplicaSet } from '../tools/grpc-load.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { measureSynth } from './synth.js';
import { formatTable, type Row } from './table.js';
import {
  batchPayloads,
  batchWorkload,
  exampleEnvironment,
  exampleRequests,
  fatalOf,
  prefixOf,
  repoRoot,
  requestFor,
  steadyStateRequest,
} from '../tools/workload.js';
import { runFunctionSync } from '../functions/secure-bucket/src/function.js';
import { encodeResponse } from '../functions/secure-bucket/src/wire.js';

const quick = process.argv.includes('--quick');
const root = repoRoot();
const MAIN_JS = path.join(root, 'dist/functions/secure-bucket/src/main.js');
const ECHO_JS = path.join(root, 'dist/bench/echo-server.js');
const EMPTY_JS = path.join(root, 'dist/bench/empty-server.js');
const MiB = 1024 * 1024;

const TARGETS = {
  ratioAt32: 0.8,
  batchSeconds: 10,
  rssMiB: 150,
  rssGrowth: 0.1,
  coldStartMs: 500,
  ratioToFloor: 2.0,
  steadyStateRatio: 0.8,
  replicasServing: 3,
};
/** Crossplane polls every XR about once a minute. */
const FLEET = { xrs: 10_000, pollsPerMinute: 1 };
const SIZES = quick
  ? { windowMs: 1500, batchClaims: 1000, rssFirst: 2000, rssTotal: 10_000, coldStarts: 2, synthConsumers: 100, steadyXrs: 100 }
  : { windowMs: 4000, batchClaims: 10_000, rssFirst: 10_000, rssTotal: 100_000, coldStarts: 5, synthConsumers: 1000, steadyXrs: 1000 };

const log = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);
const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Fails the bench when a measured call did not render: a fast wrong answer is no figure. */
function checkRendered(what: string, sample: Buffer | undefined, expected: Buffer): void {
  if (sample === undefined) throw new Error(`${what}: no successful call`);
  const fatal = fatalOf(RunFunctionResponse.decode(sample));
  if (fatal) throw new Error(`${what}: Fatal result: ${fatal}`);
  if (!sample.equals(expected)) throw new Error(`${what}: response differs from the function's own (${sample.length} vs ${expected.length} bytes)`);
}

interface Throughput {
  claim: string;
  concurrency: number;
  ours: LoadResult;
  echo: LoadResult;
  ratio: number;
}

async function throughput(ours: ServerProcess, echo: ServerProcess): Promise<Throughput[]> {
  const examples = await exampleRequests(root);
  const oursClient = rawClient(ours.address);
  const echoClient = rawClient(echo.address);
  const out: Throughput[] = [];
  try {
    for (const { name, request } of examples) {
      const payload = encodeRequest(request);
      const expected = Buffer.from(RunFunctionResponse.encode(await runFunction(request)).finish());
      for (const concurrency of [1, 32]) {
        log(`${name} at concurrency ${concurrency}`);
        const { a: o, b: e } = await compareInterleaved(oursClient, echoClient, [payload], {
          concurrency,
          durationMs: SIZES.windowMs,
          warmupRequests: 200,
          rounds: 6,
        });
        checkRendered(`ours ${name}`, o.sample, expected);
        checkRendered(`echo ${name}`, e.sample, expected);
        out.push({ claim: name, concurrency, ours: o, echo: e, ratio: o.perSecond / e.perSecond });
      }
    }
  } finally {
    oursClient.close();
    echoClient.close();
  }
  return out;
}

const encodeRequest = (req: RunFunctionRequest): Buffer => Buffer.from(RunFunctionRequest.encode(req).finish());

/** `render` of distinct generated claims through one server: 32 claims in flight, one call each. */
async function batchRender(server: ServerProcess): Promise<{ claims: number; failed: number; seconds: number; perSecond: number; callsPerClaim: number }> {
  const { claims, opts } = batchWorkload(root, SIZES.batchClaims);
  const wire = connectFunction(server.address);
  let calls = 0;
  const client = { runFunction: (req: RunFunctionRequest) => (calls++, wire.runFunction(req)), close: () => wire.close() };
  let next = 0;
  let failed = 0;
  const firstFailures: string[] = [];
  const t0 = performance.now();
  try {
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < claims.length) {
          const claim = claims[next++]!;
          const rendered = await renderClaim(client, claim, opts);
          if (rendered.fatal || Object.keys(rendered.resources).length === 0) {
            failed++;
            if (firstFailures.length < 3) firstFailures.push(`${claim.metadata.namespace}/${claim.metadata.name}: ${rendered.fatal ?? 'no resources'}`);
          }
        }
      }),
    );
  } finally {
    client.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  // Reported, not thrown: the other figures still count, and the table shows the miss.
  if (failed > 0) log(`batch render: ${failed} generated claims failed, e.g. ${firstFailures.join('; ')}`);
  return { claims: claims.length, failed, seconds, perSecond: claims.length / seconds, callsPerClaim: calls / claims.length };
}

/**
 * The batch's first-call requests as bytes (what renderClaim sends: recorded by a client that
 * answers nothing, so the loop stops after one call), sent raw at concurrency 32 to `script`:
 * with our server it is the batch without render's client-side work, with the empty handler it is
 * what the calls alone cost on this machine (the floor under any function).
 */
async function rawBatch(script: string): Promise<{ seconds: number; errors: number; rejected: number }> {
  // 200 more claims than measured: the warm-up sends those, so no measured call is a cache hit.
  const all = await batchPayloads(root, SIZES.batchClaims + 200);
  const warm = all.slice(SIZES.batchClaims);
  const payloads = all.slice(0, SIZES.batchClaims);
  const server = await startServerProcess(script);
  const client = rawClient(server.address);
  try {
    await runLoad(client, warm, { concurrency: 32, durationMs: 600_000, maxRequests: warm.length });
    const load = await runLoad(client, payloads, { concurrency: 32, durationMs: 600_000, maxRequests: payloads.length });
    const rejected = load.sample !== undefined && fatalOf(RunFunctionResponse.decode(load.sample)) !== undefined ? 1 : 0;
    return { seconds: load.seconds, errors: load.errors, rejected };
  } finally {
    client.close();
    await server.stop();
  }
}

/** Counter values of our /metrics text, by metric name and labels as written. */
async function scrape(metrics: string | undefined): Promise<Record<string, number>> {
  if (metrics === undefined) throw new Error('server started without --metrics-address');
  const text = await (await fetch(`http://${metrics}/metrics`)).text();
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => {
        const i = l.lastIndexOf(' ');
        return [l.slice(0, i), Number(l.slice(i + 1))];
      }),
  );
}
const lookups = (m: Record<string, number>): number =>
  ['hit', 'normalised_hit', 'miss'].reduce((n, r) => n + (m[`function_response_cache_lookups_total{result="${r}"}`] ?? 0), 0);

interface SteadyState {
  xrs: number;
  ours: LoadResult;
  empty: LoadResult;
  ratio: number;
  cpuMsPerCall: number;
  emptyCpuMsPerCall: number;
  hitRate: number;
  cacheMiB: number;
}

/**
 * Steady state: every XR's converged request, sent again and again (a poll a minute, compressed),
 * to our server with its cache warm and to the empty handler, in alternating windows. Then our CPU
 * per call from /proc over a window of its own.
 */
async function steadyState(): Promise<SteadyState> {
  const environment = exampleEnvironment(root);
  const region = String((environment['data'] as Record<string, unknown>)['region']);
  const claims = generateClaims(SIZES.steadyXrs, { region, bucketNamePrefix: prefixOf(environment), seed: 13 });
  const requests = [
    ...(await exampleRequests(root)).map((e) => e.request),
    ...(await Promise.all(claims.map((c, i) => steadyStateRequest(`steady-${i}`, c, environment)))),
  ];
  const payloads = requests.map(encodeRequest);
  const ours = await startServerProcess(MAIN_JS, ['--insecure', '--address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0']);
  const empty = await startServerProcess(EMPTY_JS);
  const oursClient = rawClient(ours.address);
  const emptyClient = rawClient(empty.address);
  try {
    // The first poll of every XR fills the cache; the figures are about the polls after it.
    await runLoad(oursClient, payloads, { concurrency: 32, durationMs: 600_000, maxRequests: payloads.length });
    const { a: o, b: e } = await compareInterleaved(oursClient, emptyClient, payloads, {
      concurrency: 32,
      durationMs: SIZES.windowMs * 2,
      warmupRequests: 200,
      rounds: 6,
    });
    const expected = encodeResponse(runFunctionSync(RunFunctionRequest.decode(payloads[0]!)));
    if (o.sample === undefined || !(await oursClient.call(payloads[0]!)).equals(expected))
      throw new Error("steady state: a cached answer differs from the function's own");
    const cpuOf = async (server: ServerProcess, client: RawClient): Promise<number> => {
      const c0 = server.cpuMs();
      const r = await runLoad(client, payloads, { concurrency: 32, durationMs: SIZES.windowMs });
      return (server.cpuMs() - c0) / r.requests;
    };
    const cpuMsPerCall = await cpuOf(ours, oursClient);
    const emptyCpuMsPerCall = await cpuOf(empty, emptyClient);
    const m = await scrape(ours.metrics);
    const hits = (m['function_response_cache_lookups_total{result="hit"}'] ?? 0) + (m['function_response_cache_lookups_total{result="normalised_hit"}'] ?? 0);
    return {
      xrs: payloads.length,
      ours: o,
      empty: e,
      ratio: o.perSecond / e.perSecond,
      cpuMsPerCall,
      emptyCpuMsPerCall,
      hitRate: hits / lookups(m),
      cacheMiB: (m['function_response_cache_bytes'] ?? 0) / MiB,
    };
  } finally {
    oursClient.close();
    emptyClient.close();
    await Promise.allSettled([ours.stop(), empty.stop()]);
  }
}

/**
 * Scale-out as Crossplane sees it: two replicas behind a "headless Service" (a resolver with their
 * addresses), a round-robin client under steady load, a third replica added to the Service. After
 * two connection ages, how many replicas took calls in the last window (each replica's /metrics).
 */
async function scaleOut(): Promise<{ replicasServing: number; replicas: number; errors: number; connectionAgeMs: number }> {
  const ageMs = 2000;
  const start = (host: string): Promise<ServerProcess> =>
    startServerProcess(MAIN_JS, ['--insecure', '--address', `${host}:0`, '--metrics-address', '127.0.0.1:0', '--max-connection-age-ms', String(ageMs)]);
  const replicas = await Promise.all(['127.0.0.1', '127.0.0.2'].map(start));
  const hostPort = (s: ServerProcess) => ({ host: s.address.replace(/:\d+$/, ''), port: Number(s.address.split(':').pop()) });
  const service: ReplicaSet = { addresses: replicas.map(hostPort) };
  const client = roundRobinClient('bench-scale-out', service);
  const payloads = (await exampleRequests(root)).map((e) => encodeRequest(e.request));
  let errors = 0;
  try {
    const load = (ms: number) => runLoad(client, payloads, { concurrency: 8, durationMs: ms }).then((r) => (errors += r.errors));
    await load(1000);
    replicas.push(await start('127.0.0.3'));
    service.addresses = replicas.map(hostPort);
    await load(2 * ageMs + 500);
    const before = await Promise.all(replicas.map((r) => scrape(r.metrics)));
    await load(1500);
    const after = await Promise.all(replicas.map((r) => scrape(r.metrics)));
    const serving = after.filter((m, i) => lookups(m) > lookups(before[i]!)).length;
    return { replicasServing: serving, replicas: replicas.length, errors, connectionAgeMs: ageMs };
  } finally {
    client.close();
    await Promise.allSettled(replicas.map((r) => r.stop()));
  }
}

/** RSS of a fresh server after `rssFirst` and after `rssTotal` requests of distinct claims. */
async function memory(): Promise<{ afterFirstMiB: number; afterTotalMiB: number; growth: number; errors: number }> {
  const environment = exampleEnvironment(root);
  const region = String((environment['data'] as Record<string, unknown>)['region']);
  const payloads = generateClaims(Math.min(SIZES.rssFirst, 10_000), { region, bucketNamePrefix: prefixOf(environment), seed: 11 }).map((claim, i) =>
    encodeRequest(requestFor(`rss-${i}`, compositeForClaim(claim), environment)),
  );
  const server = await startServerProcess(MAIN_JS);
  const client = rawClient(server.address);
  try {
    const first = await runLoad(client, payloads, { concurrency: 32, durationMs: 600_000, maxRequests: SIZES.rssFirst });
    const afterFirst = server.rssBytes();
    log(`RSS after ${SIZES.rssFirst} requests: ${round(afterFirst / MiB)} MiB; sending ${SIZES.rssTotal - SIZES.rssFirst} more`);
    const rest = await runLoad(client, payloads, { concurrency: 32, durationMs: 600_000, maxRequests: SIZES.rssTotal - SIZES.rssFirst });
    const afterTotal = server.rssBytes();
    return { afterFirstMiB: afterFirst / MiB, afterTotalMiB: afterTotal / MiB, growth: afterTotal / afterFirst - 1, errors: first.errors + rest.errors };
  } finally {
    client.close();
    await server.stop();
  }
}

/** Process start (spawn of main.js) to the first successful RunFunction response. */
async function coldStarts(payload: Buffer): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < SIZES.coldStarts; i++) {
    const t0 = performance.now();
    const server = await startServerProcess(MAIN_JS);
    const client = rawClient(server.address);
    try {
      const rsp = RunFunctionResponse.decode(await client.call(payload, 10_000));
      times.push(performance.now() - t0);
      if (fatalOf(rsp)) throw new Error(`cold start: Fatal result: ${fatalOf(rsp)}`);
    } finally {
      client.close();
      await server.stop();
    }
  }
  return times;
}

async function main(): Promise<void> {
  const started = performance.now();

  log('starting our server and the echo baseline');
  const [ours, echo] = await Promise.all([startServerProcess(MAIN_JS), startServerProcess(ECHO_JS)]);
  let runs: Throughput[];
  let batch: Awaited<ReturnType<typeof batchRender>>;
  try {
    runs = await throughput(ours, echo);
    await echo.stop();
    log(`batch render of ${SIZES.batchClaims} generated claims`);
    batch = await batchRender(ours);
  } finally {
    await Promise.allSettled([ours.stop(), echo.stop()]);
  }
  log('the batch as raw calls: our server, then the empty handler (the transport floor)');
  const rawOurs = await rawBatch(MAIN_JS);
  const floor = await rawBatch(EMPTY_JS);
  if (rawOurs.errors + rawOurs.rejected + floor.errors > 0)
    throw new Error(`raw batch: ${rawOurs.errors + floor.errors} failed calls, ${rawOurs.rejected} Fatal`);
  const ratioToFloor = rawOurs.seconds / floor.seconds;
  log('steady state: converged requests again, cache warm, against the empty handler');
  const steady = await steadyState();
  log('scale-out: a third replica behind a round-robin client');
  const scale = await scaleOut();
  const fleetCores = (((FLEET.xrs * FLEET.pollsPerMinute) / 60) * steady.cpuMsPerCall) / 1000;
  log('memory');
  const rss = await memory();
  log('cold start');
  const firstExample = (await exampleRequests(root))[0]!.request;
  const cold = await coldStarts(encodeRequest(firstExample));
  log(`synth of ${SIZES.synthConsumers} consumers`);
  const synth = measureSynth(root, SIZES.synthConsumers);

  const worstRatio = Math.min(...runs.filter((r) => r.concurrency === 32).map((r) => r.ratio));
  const coldMs = median(cold);
  const rows: Row[] = [];
  for (const r of runs) {
    const fmt = (l: LoadResult): string => `${Math.round(l.perSecond)} req/s  p50 ${round(l.p50Ms, 2)}  p99 ${round(l.p99Ms, 2)} ms`;
    rows.push({
      metric: `RunFunction ${r.claim} c=${r.concurrency}`,
      value: `ours ${fmt(r.ours)} | echo ${fmt(r.echo)} | ours/echo ${round(r.ratio, 2)}`,
      target: r.concurrency === 32 ? `ours/echo >= ${TARGETS.ratioAt32}` : '',
      met: r.concurrency === 32 ? r.ratio >= TARGETS.ratioAt32 : undefined,
    });
  }
  rows.push(
    {
      metric: `batch render, ${batch.claims} distinct claims`,
      value: `${round(batch.seconds, 2)} s, ${Math.round(batch.perSecond)} claims/s, ${round(batch.callsPerClaim, 2)} calls/claim, ${batch.failed} failed`,
      target: `< ${TARGETS.batchSeconds} s, 0 failed`,
      met: batch.seconds < TARGETS.batchSeconds && batch.claims >= 10_000 && batch.failed === 0,
    },
    { metric: `  same calls, pre-encoded, our server`, value: `${round(rawOurs.seconds, 2)} s (no client-side render work)`, target: '', met: undefined },
    {
      metric: `  same calls, empty handler (floor)`,
      value: `${round(floor.seconds, 2)} s (transport alone: what no function can beat here)`,
      target: '',
      met: undefined,
    },
    { metric: `  raw / empty handler`, value: `${round(ratioToFloor, 2)}`, target: `<= ${TARGETS.ratioToFloor}`, met: ratioToFloor <= TARGETS.ratioToFloor },
    {
      metric: `steady state, ${steady.xrs} XRs polled again`,
      value: `ours ${Math.round(steady.ours.perSecond)} req/s | empty ${Math.round(steady.empty.perSecond)} req/s | ours/empty ${round(steady.ratio, 2)} (hit rate ${round(steady.hitRate * 100)} %, cache ${round(steady.cacheMiB)} MiB)`,
      target: `>= ${TARGETS.steadyStateRatio}`,
      met: steady.ratio >= TARGETS.steadyStateRatio,
    },
    {
      metric: `  CPU per steady-state call`,
      value: `${round(steady.cpuMsPerCall, 3)} ms (empty handler ${round(steady.emptyCpuMsPerCall, 3)} ms)`,
      target: '',
      met: undefined,
    },
    {
      metric: `  ${FLEET.xrs} XRs, a poll a minute`,
      value: `${round(fleetCores, 3)} cores (${Math.round((FLEET.xrs * FLEET.pollsPerMinute) / 60)} calls/s)`,
      target: '',
      met: undefined,
    },
    {
      metric: `scale-out: replicas serving`,
      value: `${scale.replicasServing} of ${scale.replicas} (third added under load, connection age ${scale.connectionAgeMs} ms, ${scale.errors} failed calls)`,
      target: `${TARGETS.replicasServing}, 0 failed`,
      met: scale.replicasServing === TARGETS.replicasServing && scale.errors === 0,
    },
    {
      metric: `RSS after ${SIZES.rssFirst} requests`,
      value: `${round(rss.afterFirstMiB)} MiB`,
      target: `< ${TARGETS.rssMiB} MiB`,
      met: rss.afterFirstMiB < TARGETS.rssMiB,
    },
    {
      metric: `RSS after ${SIZES.rssTotal} requests`,
      value: `${round(rss.afterTotalMiB)} MiB (growth ${round(rss.growth * 100)} %, ${rss.errors} errors)`,
      target: `< ${TARGETS.rssMiB} MiB, growth < ${TARGETS.rssGrowth * 100} %`,
      met: rss.afterTotalMiB < TARGETS.rssMiB && rss.growth < TARGETS.rssGrowth && rss.errors === 0,
    },
    {
      metric: `cold start (median of ${cold.length})`,
      value: `${Math.round(coldMs)} ms (min ${Math.round(Math.min(...cold))}, max ${Math.round(Math.max(...cold))})`,
      target: `< ${TARGETS.coldStartMs} ms`,
      met: coldMs < TARGETS.coldStartMs,
    },
    {
      metric: `synth, ${synth.consumers} consumers`,
      value: `${round(synth.seconds, 2)} s (${synth.claims} claims, ${synth.files} files)`,
      target: '',
      met: undefined,
    },
  );
  const totalSeconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${formatTable(rows)}\nheadline: ours/echo at concurrency 32 = ${round(worstRatio, 2)} (worst example claim); bench took ${Math.round(totalSeconds)} s${quick ? ' (--quick: reduced sizes)' : ''}\n`,
  );

  const results = {
    when: new Date().toISOString(),
    machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
    quick,
    targets: TARGETS,
    throughput: runs.map((r) => ({
      claim: r.claim,
      concurrency: r.concurrency,
      ours: {
        perSecond: round(r.ours.perSecond),
        p50Ms: round(r.ours.p50Ms, 3),
        p99Ms: round(r.ours.p99Ms, 3),
        requests: r.ours.requests,
        errors: r.ours.errors,
      },
      echo: {
        perSecond: round(r.echo.perSecond),
        p50Ms: round(r.echo.p50Ms, 3),
        p99Ms: round(r.echo.p99Ms, 3),
        requests: r.echo.requests,
        errors: r.echo.errors,
      },
      ratio: round(r.ratio, 3),
    })),
    batchRender: {
      claims: batch.claims,
      failed: batch.failed,
      seconds: round(batch.seconds, 3),
      perSecond: round(batch.perSecond),
      callsPerClaim: round(batch.callsPerClaim, 2),
      rawCallsSeconds: round(rawOurs.seconds, 3),
      emptyHandlerSeconds: round(floor.seconds, 3),
      raw: round(rawOurs.seconds, 3),
      emptyHandler: round(floor.seconds, 3),
      ratioToFloor: round(ratioToFloor, 3),
    },
    steadyState: {
      xrs: steady.xrs,
      ours: {
        perSecond: round(steady.ours.perSecond),
        p50Ms: round(steady.ours.p50Ms, 3),
        p99Ms: round(steady.ours.p99Ms, 3),
        requests: steady.ours.requests,
        errors: steady.ours.errors,
      },
      emptyHandler: {
        perSecond: round(steady.empty.perSecond),
        p50Ms: round(steady.empty.p50Ms, 3),
        p99Ms: round(steady.empty.p99Ms, 3),
        requests: steady.empty.requests,
        errors: steady.empty.errors,
      },
      ratio: round(steady.ratio, 3),
      cpuMsPerCall: round(steady.cpuMsPerCall, 4),
      emptyHandlerCpuMsPerCall: round(steady.emptyCpuMsPerCall, 4),
      hitRate: round(steady.hitRate, 4),
      cacheMiB: round(steady.cacheMiB),
      fleet: { xrs: FLEET.xrs, pollsPerMinute: FLEET.pollsPerMinute, cores: round(fleetCores, 4) },
    },
    scaleOut: { replicasServing: scale.replicasServing, replicas: scale.replicas, errors: scale.errors, connectionAgeMs: scale.connectionAgeMs },
    rss: {
      afterRequests: SIZES.rssFirst,
      afterMiB: round(rss.afterFirstMiB),
      totalRequests: SIZES.rssTotal,
      totalMiB: round(rss.afterTotalMiB),
      growth: round(rss.growth, 4),
      errors: rss.errors,
    },
    coldStartMs: { median: round(coldMs), all: cold.map((t) => round(t)) },
    synth,
    totalSeconds: round(totalSeconds),
  };
  // --quick figures are not comparable: they never replace the recorded ones.
  if (!quick) writeFileSync(path.join(root, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
