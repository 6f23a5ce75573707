// The transport floor: the same server (runMain: SDK, message limits, logger, flags) whose handler
// answers every request with an empty response. Sending it the batch's requests measures what
// 10,000 RunFunction calls cost on this machine before any function does any work.
//   node dist/bench/empty-server.js --insecure --address 127.0.0.1:0
import { RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { runMain } from '../functions/secure-bucket/src/main.js';

// No response cache: the floor is what every call costs before any function work.
process.exit(
  await runMain([...process.argv.slice(2), '--cache-bytes', '0'], async (req) => RunFunctionResponse.fromPartial({ meta: { tag: req.meta?.tag ?? '' } })),
);
