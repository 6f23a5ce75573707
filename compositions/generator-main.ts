// The one command line of every generator under compositions/ (make xrds): write the files whose
// generated text differs from the committed one, or with --check only name them (exit 1).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GeneratedFile {
  file: string;
  current: string;
  generated: string;
}

/** `generate(repoRoot)` lists each file with its committed and generated text; `source` names what it is generated from. */
export function generatorMain(argv: string[], moduleUrl: string, source: string, generate: (repoRoot: string) => GeneratedFile[]): number {
  const rootAt = argv.indexOf('--root');
  const here = path.dirname(fileURLToPath(moduleUrl));
  // dist/compositions/<generator>.js or compositions/<generator>.ts
  const repoRoot = rootAt >= 0 ? path.resolve(argv[rootAt + 1] ?? '.') : path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
  const stale = generate(repoRoot).filter((x) => x.current !== x.generated);
  if (argv.includes('--check')) {
    for (const x of stale) process.stderr.write(`stale: ${x.file} differs from ${source}; run make xrds\n`);
    return stale.length === 0 ? 0 : 1;
  }
  for (const x of stale) {
    writeFileSync(path.join(repoRoot, x.file), x.generated);
    process.stdout.write(`wrote ${x.file}\n`);
  }
  return 0;
}
