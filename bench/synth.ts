// `make synth` for 1,000 consumers: a scratch checkout holding the example EnvironmentConfig and
// generated claims (CONSUMERS_PER_CLAIM consumers each, distinct service accounts), then the
// synth entry (node dist/cdk8s/main.js --root <scratch>) timed as a process, start to exit.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dump } from 'js-yaml';
import { claimOf } from '../tools/claim-generator.js';
import { exampleEnvironment } from '../tools/workload.js';

const CONSUMERS_PER_CLAIM = 5;
const NAMESPACES = 20;

export interface SynthResult {
  consumers: number;
  claims: number;
  files: number;
  seconds: number;
}

function writeClaims(claimsDir: string, consumers: number): number {
  const claims = Math.ceil(consumers / CONSUMERS_PER_CLAIM);
  for (let i = 0; i < claims; i++) {
    const namespace = `team-${i % NAMESPACES}`;
    const name = `bucket-${i}`;
    const spec = {
      consumers: Array.from({ length: Math.min(CONSUMERS_PER_CLAIM, consumers - i * CONSUMERS_PER_CLAIM) }, (_, c) => ({
        name: `app-${c}`,
        serviceAccount: `${name}-app-${c}`,
        access: (['Read', 'Write', 'ReadWrite'] as const)[c % 3],
        prefixes: [`data-${c}/`],
        accessPoint: c % 2 === 0,
      })),
    };
    writeFileSync(path.join(claimsDir, `${name}.yaml`), dump(claimOf(name, namespace, spec)));
  }
  return claims;
}

function countFiles(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1), 0);
}

export function measureSynth(root: string, consumers = 1000): SynthResult {
  const entry = path.join(root, 'dist/cdk8s/main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (npx tsc -p tsconfig.build.json)`);
  const scratch = mkdtempSync(path.join(tmpdir(), 'bench-synth-'));
  try {
    const examples = path.join(scratch, 'compositions/examples');
    const claimsDir = path.join(examples, 'claims');
    mkdirSync(claimsDir, { recursive: true });
    // The example environment with the generated namespaces registered as tenants.
    writeFileSync(path.join(examples, 'environment.yaml'), dump(exampleEnvironment(root)));
    const claims = writeClaims(claimsDir, consumers);
    const before = countFiles(scratch);
    const t0 = performance.now();
    execFileSync(process.execPath, [entry, '--root', scratch], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SHARED_DIR: process.env.SHARED_DIR ?? path.resolve(root, '../shared') },
    });
    const seconds = (performance.now() - t0) / 1000;
    return { consumers, claims, files: countFiles(scratch) - before, seconds };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
