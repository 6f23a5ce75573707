// The echo baseline: the same server (runMain: same SDK, message limits, logger and flags) whose
// handler returns the response our function gives for that request, computed once at start-up.
// What it costs per call is the gRPC and protobuf work no function can avoid.
//   node dist/bench/echo-server.js --insecure --address 127.0.0.1:0
import type { RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { runFunction } from '../functions/secure-bucket/src/function.js';
import { runMain } from '../functions/secure-bucket/src/main.js';
import { fatalResponse } from '../functions/secure-bucket/src/server.js';
import { exampleRequests } from '../tools/workload.js';

const responses = new Map<string, RunFunctionResponse>();
for (const { request } of await exampleRequests()) {
  responses.set(request.meta?.tag ?? '', await runFunction(request));
}

process.exit(
  // No response cache: the baseline is a precomputed answer behind the full decode/encode path.
  await runMain(
    [...process.argv.slice(2), '--cache-bytes', '0'],
    async (req) =>
      responses.get(req.meta?.tag ?? '') ??
      fatalResponse({ tag: req.meta?.tag ?? '', desired: req.desired }, `echo: no precomputed response for tag '${req.meta?.tag ?? ''}'`),
  ),
);
