// CPU profile of the server under load: starts main.js (or the echo baseline) with --cpu-prof,
// drives the example claims' steady-state requests at concurrency 32, stops it with SIGTERM and
// prints the functions with the most self time, grouped by where they live.
//   node dist/bench/profile.js [--echo] [--seconds N] [--out DIR]
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RunFunctionRequest } from '@crossplane-org/function-sdk-typescript';
import { rawClient, runLoad } from '../tools/grpc-load.js';
import { startServerProcess } from './server-process.js';
import { exampleRequests, repoRoot } from '../tools/workload.js';
import { summariseProfile } from './profile-summary.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { echo: { type: 'boolean', default: false }, seconds: { type: 'string', default: '8' }, out: { type: 'string', default: 'bench/profiles' } },
  });
  const root = repoRoot();
  const outDir = path.resolve(values.out);
  mkdirSync(outDir, { recursive: true });
  const before = new Set(readdirSync(outDir));
  const script = path.join(root, values.echo ? 'dist/bench/echo-server.js' : 'dist/functions/secure-bucket/src/main.js');
  const server = await startServerProcess(script, ['--insecure', '--address', '127.0.0.1:0'], 15_000, ['--cpu-prof', `--cpu-prof-dir=${outDir}`]);
  const payloads = (await exampleRequests(root)).map(({ request }) => Buffer.from(RunFunctionRequest.encode(request).finish()));
  const client = rawClient(server.address);
  try {
    const r = await runLoad(client, payloads, { concurrency: 32, durationMs: Number(values.seconds) * 1000, warmupRequests: 200 });
    process.stderr.write(
      `${values.echo ? 'echo' : 'ours'}: ${Math.round(r.perSecond)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${r.errors} errors\n`,
    );
  } finally {
    client.close();
    await server.stop();
  }
  const written = readdirSync(outDir).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (written.length !== 1) throw new Error(`expected one new profile in ${outDir}, found ${written.length}`);
  const file = path.join(outDir, written[0]!);
  process.stdout.write(`${file}\n${summariseProfile(file)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`profile: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
