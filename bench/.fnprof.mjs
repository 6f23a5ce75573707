import { runFunction } from '/work/main/dist/functions/secure-bucket/src/function.js';
import { exampleRequests } from '/work/main/dist/bench/workload.js';
const ex = await exampleRequests();
for (let i = 0; i < 3000; i++) await runFunction(ex[i % 3].request);
const t = performance.now();
for (let i = 0; i < 20000; i++) await runFunction(ex[i % 3].request);
console.log('per call ms', (performance.now() - t) / 20000);
