// `make access-diff BASE=<git ref>`: the access diff of every claim file changed since BASE. Each
// changed file is written as it was at BASE (`git show BASE:path`) and as it is now into a temp
// folder, one pair of folders per environment scope (compositions/examples, clusters/<cluster>),
// and `render --diff-access` runs on each pair with that scope's EnvironmentConfig. A file added
// since BASE has no base side (all gains), a deleted one no head side (all losses).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dump } from 'js-yaml';
import { EnvironmentResolver, ENVIRONMENT_CONFIG_NAME } from '../cdk8s/environment-source.js';

const repoRoot = process.cwd();
const render = path.join(repoRoot, 'dist/functions/secure-bucket/src/render.js');
const CLAIM_ROOTS = ['compositions/examples/claims', 'clusters'];

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function atBase(base: string, file: string): string | undefined {
  try {
    return git(['show', `${base}:${file}`]);
  } catch {
    return undefined; // added since BASE
  }
}

const holdsClaims = (text: string | undefined): boolean => text !== undefined && text.includes('XSecureBucketClaim');

function main(argv: string[]): number {
  const base = argv[0];
  const passThrough = argv.slice(1);
  if (!base) {
    process.stderr.write('usage: make access-diff BASE=<git ref> [FAIL_ON_WIDENING=1]\n');
    return 2;
  }
  git(['rev-parse', '--verify', `${base}^{commit}`]);
  const changed = git(['diff', '--name-only', base, '--', ...CLAIM_ROOTS])
    .split('\n')
    .concat(git(['ls-files', '--others', '--exclude-standard', '--', ...CLAIM_ROOTS]).split('\n'))
    .filter((f) => /\.ya?ml$/.test(f) && !f.split('/').includes('generated'));
  const resolver = new EnvironmentResolver(repoRoot);
  const scopes = new Map<string, string[]>();
  for (const file of [...new Set(changed)].sort()) {
    const now = existsSync(path.join(repoRoot, file)) ? readFileSync(path.join(repoRoot, file), 'utf8') : undefined;
    if (!holdsClaims(now) && !holdsClaims(atBase(base, file))) continue;
    const scope = resolver.scopeOf(path.join(repoRoot, file));
    scopes.set(scope, [...(scopes.get(scope) ?? []), file]);
  }
  if (scopes.size === 0) {
    process.stdout.write(`## Access diff\n\nNo claim changed since ${base}.\n`);
    return 0;
  }
  const tmp = mkdtempSync(path.join(tmpdir(), 'access-diff-'));
  let status = 0;
  try {
    for (const [scope, files] of scopes) {
      const rel = path.relative(repoRoot, scope);
      const dir = path.join(tmp, rel.replace(/[\\/]/g, '_'));
      for (const side of ['base', 'head']) mkdirSync(path.join(dir, side), { recursive: true });
      for (const file of files) {
        const flat = file.replace(/[\\/]/g, '_');
        const before = atBase(base, file);
        if (before !== undefined) writeFileSync(path.join(dir, 'base', flat), before);
        const abs = path.join(repoRoot, file);
        if (existsSync(abs)) writeFileSync(path.join(dir, 'head', flat), readFileSync(abs));
      }
      const env = resolver.forClaim(path.join(repoRoot, files[0] as string));
      const envFile = path.join(dir, 'environment.yaml');
      writeFileSync(envFile, dump({ apiVersion: 'apiextensions.crossplane.io/v1beta1', kind: 'EnvironmentConfig', metadata: { name: ENVIRONMENT_CONFIG_NAME }, data: env.data }));
      process.stdout.write(`<!-- ${rel}: ${files.join(', ')} (environment: ${env.from}) -->\n`);
      const run = spawnSync(process.execPath, [render, '--diff-access', '--environment', envFile, ...passThrough, path.join(dir, 'base'), path.join(dir, 'head')], { cwd: repoRoot, stdio: 'inherit' });
      status = Math.max(status, run.status ?? 1);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return status;
}

process.exitCode = main(process.argv.slice(2));
