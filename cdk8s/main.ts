// Entry point of `make synth`: regenerates the consumer objects beside every claim, or with
// --check only reports stale files (exit 1, one line per file) without writing.
//   node dist/cdk8s/main.js [--check] [--root <repo>]
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkFiles, writeFiles } from './synth.js';

function defaultRoot(): string {
  // dist/cdk8s/main.js or cdk8s/main.ts: the repo root is the folder holding cdk8s/ (or dist/).
  const here = path.dirname(fileURLToPath(import.meta.url));
  const parts = here.split(path.sep);
  const dist = parts.lastIndexOf('dist');
  return dist >= 0 ? parts.slice(0, dist).join(path.sep) || path.sep : path.resolve(here, '..');
}

export function main(argv: string[]): number {
  const rootAt = argv.indexOf('--root');
  const repoRoot = rootAt >= 0 && argv[rootAt + 1] ? path.resolve(argv[rootAt + 1] as string) : defaultRoot();
  if (argv.includes('--check')) {
    const { stale } = checkFiles({ repoRoot });
    for (const s of stale) process.stderr.write(`stale: ${s.file} (${s.reason}); run make synth\n`);
    if (stale.length === 0) process.stdout.write('cdk8s: generated files are up to date\n');
    return stale.length === 0 ? 0 : 1;
  }
  const touched = writeFiles({ repoRoot });
  process.stdout.write(touched.length === 0 ? 'cdk8s: nothing to regenerate\n' : touched.map((f) => `wrote ${f}\n`).join(''));
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`cdk8s: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  }
}
