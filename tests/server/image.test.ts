// Docker cannot run here, so the image is checked statically: the Dockerfile is parsed into
// stages and instructions, cross-checked against tsconfig.build.json, package.json and the
// Dockerfile's ignore file, and the runtime import graph is checked against what the
// production stage installs.

import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import ts from 'typescript';
import { FUNCTION_DIR, REPO_ROOT } from './harness.js';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  base: string;
  name: string;
  instructions: Instruction[];
}

/** Dockerfile → stages (comments dropped, `\` continuations joined). */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!m) throw new Error(`cannot parse FROM ${args}`);
      stages.push({ base: m[1]!, name: m[2] ?? String(stages.length), instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${op} before the first FROM`);
      stage.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}
function parseCopy(args: string): Copy {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { ...(from ? { from } : {}), sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

const ops = (stage: Stage, op: string): string[] => stage.instructions.filter((i) => i.op === op).map((i) => i.args);
const installsDevDependencies = (stage: Stage): boolean =>
  ops(stage, 'RUN').some((r) => /\bnpm (ci|install|i)\b/.test(r) && !/--omit[= ]dev|--production\b/.test(r));

/** Docker's ignore semantics: last matching line wins; a pattern matching a directory covers its contents. */
function dockerIgnores(patterns: string[], path: string): boolean {
  const toRegex = (glob: string): RegExp =>
    new RegExp(
      `^${glob
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*')}$`,
    );
  const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const re = toRegex(posix.normalize(negated ? raw.slice(1) : raw).replace(/^\/+/, ''));
    if (prefixes.some((p) => re.test(p))) ignored = !negated;
  }
  return ignored;
}

const dockerfile = readFileSync(join(FUNCTION_DIR, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const final = stages.at(-1)!;
const stageByName = (name: string): Stage => {
  const s = stages.find((st) => st.name === name);
  if (!s) throw new Error(`COPY --from=${name}: no such stage`);
  return s;
};
const ignorePatterns = readFileSync(join(FUNCTION_DIR, 'Dockerfile.dockerignore'), 'utf8')
  .split(/\r?\n/)
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

/** Where tsc -p tsconfig.build.json writes src/main.ts, from the config itself. */
function compiledMainPath(): string {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(REPO_ROOT, 'tsconfig.build.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: () => undefined,
    },
  );
  const { outDir, rootDir } = parsed!.options;
  return relative(REPO_ROOT, join(outDir!, relative(rootDir!, join(FUNCTION_DIR, 'src/main.js'))));
}

describe('Dockerfile', () => {
  it('is multi-stage and ends on distroless Node 22, a supported LTS (nonroot variant)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(final.base).toBe('gcr.io/distroless/nodejs22-debian12:nonroot');
    // Build stages run the same Node major as the runtime, and package.json allows it (and this machine's 20 for the tooling).
    for (const s of stages.slice(0, -1)) expect(s.base).toMatch(/^node:22[-.]/);
    const engines = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(Number(/>=\s*(\d+)/.exec(engines)?.[1])).toBeLessThanOrEqual(20);
  });

  it('runs as a non-root numeric user, has no shell steps, exposes 9443', () => {
    const users = ops(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const [uid, gid] = users.at(-1)!.split(':');
    expect(uid).toMatch(/^\d+$/); // numeric: runAsNonRoot can verify it
    expect(Number(uid)).toBeGreaterThan(0);
    if (gid !== undefined) expect(Number(gid)).toBeGreaterThan(0);
    expect(ops(final, 'RUN')).toEqual([]); // distroless has no shell
    expect(ops(final, 'ADD')).toEqual([]);
    expect(ops(final, 'EXPOSE').flatMap((e) => e.split(/\s+/))).toContain('9443');
  });

  it('starts the compiled main.js that tsc writes, and copies it into the image', () => {
    const entry = JSON.parse(ops(final, 'ENTRYPOINT').at(-1)!) as string[]; // exec form: signals reach node
    const main = compiledMainPath();
    expect(entry).toEqual(['/nodejs/bin/node', main]);
    const workdir = ops(final, 'WORKDIR').at(-1)!;
    const copies = ops(final, 'COPY').map(parseCopy);
    const fromBuild = copies.find((c) => c.from !== undefined && posix.join(workdir, main).startsWith(posix.join(workdir, c.dest)));
    expect(fromBuild).toBeDefined();
    const buildStage = stageByName(fromBuild!.from!);
    expect(ops(buildStage, 'RUN')).toContain('npx tsc -p tsconfig.build.json');
    // package.json ("type": "module") must sit above dist/ or node loads main.js as CommonJS.
    expect(copies.some((c) => c.dest === './package.json' || c.dest === posix.join(workdir, 'package.json'))).toBe(true);
  });

  it('copies node_modules only from a stage that omitted dev dependencies', () => {
    const copies = ops(final, 'COPY').map(parseCopy);
    const modules = copies.filter((c) => c.sources.some((s) => /node_modules/.test(s)));
    expect(modules.length).toBe(1);
    for (const c of copies.filter((cp) => cp.from !== undefined)) {
      const source = stageByName(c.from!);
      if (installsDevDependencies(source)) {
        expect(c.sources.filter((s) => /node_modules|^\/?$|^\/src\/?$/.test(s))).toEqual([]);
      }
    }
    for (const c of modules) {
      const source = stageByName(c.from!);
      expect(installsDevDependencies(source)).toBe(false);
      expect(ops(source, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
    }
    // The build context never reaches the final stage directly.
    expect(copies.filter((c) => c.from === undefined)).toEqual([]);
  });

  it('copies from the context only files that exist and that the ignore file lets through', () => {
    const contextSources = stages
      .flatMap((s) => ops(s, 'COPY').map(parseCopy))
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources);
    expect(contextSources.length).toBeGreaterThan(0);
    for (const src of contextSources) {
      expect(existsSync(join(REPO_ROOT, src))).toBe(true);
      expect([src, dockerIgnores(ignorePatterns, src)]).toEqual([src, false]);
    }
    expect(dockerIgnores(ignorePatterns, 'functions/secure-bucket/src/main.ts')).toBe(false);
    for (const secretOrBulky of ['.git/config', 'node_modules/typescript/package.json', 'tests/server/mtls.test.ts', 'dist/x.js', '.env']) {
      expect([secretOrBulky, dockerIgnores(ignorePatterns, secretOrBulky)]).toEqual([secretOrBulky, true]);
    }
  });
});

describe('what the image runs', () => {
  // Every module main.js reaches (the dynamic import of function.js included) must come from
  // functions/secure-bucket/src (the only sources copied) or a production dependency.
  const options: ts.CompilerOptions = { noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [] };
  const program = ts.createProgram([join(FUNCTION_DIR, 'src/main.ts')], options);
  const ours = program.getSourceFiles().filter((f) => !f.fileName.includes('/node_modules/'));
  const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

  it('holds the server alone: no render CLI, explain, fake provider or simulator in its sources', () => {
    const all = ts.sys.readDirectory(join(FUNCTION_DIR, 'src'), ['.ts'], ['**/*.d.ts']).map((f) => relative(FUNCTION_DIR, f));
    expect(all.filter((f) => !/^src\/(main|server|function|environment-cache|logger|wire|request-key|response-cache)\.ts$|^src\/core\//.test(f))).toEqual([]);
    for (const f of ours) {
      const imports = ts.preProcessFile(f.text, true, true).importedFiles.map((i) => i.fileName);
      expect([relative(REPO_ROOT, f.fileName), imports.filter((i) => /iam-simulate|iam-data|\/cli\//.test(i))]).toEqual([relative(REPO_ROOT, f.fileName), []]);
    }
  });

  it('reaches function.ts', () => {
    expect(ours.map((f) => relative(REPO_ROOT, f.fileName))).toContain('functions/secure-bucket/src/function.ts');
  });

  it('compiles from functions/secure-bucket/src alone (the only sources in the build context)', () => {
    const all = ts.sys.readDirectory(join(FUNCTION_DIR, 'src'), ['.ts'], ['**/*.d.ts']);
    const whole = ts.createProgram(all, { ...options, noEmit: true });
    const files = whole
      .getSourceFiles()
      .filter((f) => !f.fileName.includes('/node_modules/'))
      .map((f) => relative(REPO_ROOT, f.fileName));
    expect(files.length).toBeGreaterThanOrEqual(all.length);
    expect(files.filter((f) => !f.startsWith('functions/secure-bucket/src/'))).toEqual([]);
  });

  it('imports only production dependencies and node built-ins', () => {
    const bare = new Set<string>();
    for (const f of ours) {
      for (const imp of ts.preProcessFile(f.text, true, true).importedFiles) {
        const spec = imp.fileName;
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        bare.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    expect(bare.size).toBeGreaterThan(0);
    expect([...bare].filter((p) => !(p in packageJson.dependencies))).toEqual([]);
  });
});
