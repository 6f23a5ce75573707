// Where a first-pass call's time goes inside the server process, without the transport: decode,
// compose and encode of the batch's first-call requests, timed per stage in process (one core,
// no gRPC), then all three under the V8 profiler, summarised by area and function.
//   node dist/bench/stages.js [--claims N] [--rounds N] [--no-profile]
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { RunFunctionRequest, RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { runFunctionSync } from '../functions/secure-bucket/src/function.js';
import { wireCodec } from '../functions/secure-bucket/src/wire.js';
import { summariseProfile, type ProfileNode } from './profile-summary.js';
import { batchPayloads, repoRoot } from '../tools/workload.js';

const { values } = parseArgs({
  options: { claims: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' }, 'no-profile': { type: 'boolean', default: false } },
});
const payloads = await batchPayloads(repoRoot(), Number(values.claims));

type Stage = 'decode' | 'compose' | 'encode';
interface Codec {
  decode(b: Buffer): RunFunctionRequest;
  encode(r: RunFunctionResponse): Uint8Array;
}
const sdk: Codec = {
  decode: (b) => RunFunctionRequest.decode(b),
  encode: (r) => RunFunctionResponse.encode(r).finish(),
};
const codecs: Record<string, Codec> = { sdk, ours: wireCodec };

function once(codec: Codec, times?: Record<Stage, number>): void {
  for (const p of payloads) {
    const t0 = performance.now();
    const req = codec.decode(p);
    const t1 = performance.now();
    const rsp = runFunctionSync(req);
    const t2 = performance.now();
    codec.encode(rsp);
    const t3 = performance.now();
    if (times) {
      times.decode += t1 - t0;
      times.compose += t2 - t1;
      times.encode += t3 - t2;
    }
  }
}

for (const [name, codec] of Object.entries(codecs)) {
  once(codec); // JIT warm-up
  const times = { decode: 0, compose: 0, encode: 0 };
  for (let i = 0; i < Number(values.rounds); i++) once(codec, times);
  const calls = payloads.length * Number(values.rounds);
  const per = (ms: number): string => `${((ms / calls) * 1000).toFixed(0)} µs`;
  process.stdout.write(
    `${name}: decode ${per(times.decode)}, compose ${per(times.compose)}, encode ${per(times.encode)} per call (${calls} calls, ${payloads[0]!.length} request bytes)\n`,
  );
}

if (!values['no-profile']) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  for (const [name, codec] of Object.entries(codecs)) {
    await session.post('Profiler.start');
    for (let i = 0; i < Number(values.rounds); i++) once(codec);
    const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[] } };
    process.stdout.write(`\n== profile, ${name} codec ==\n${summariseProfile(profile, 30)}\n`);
  }
  session.disconnect();
}
