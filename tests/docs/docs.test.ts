// The docs stay true (issue 23): every command example that needs no cluster runs and exits as
// documented, in a fresh clone; every section a message or doc names exists; the README's cost
// figures are what `render --cost` prints; troubleshooting names both APIs' fully qualified plural;
// `make help` lists every target; the repository's hygiene files agree with the package metadata.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { DOC_FILES, type DocExample, docExamples, freshClone, runScript } from '../lib/doc-examples.js';
import { render } from '../lib/render-cli.js';
import { repoRoot } from '../lib/repo.js';

const read = (f: string) => readFileSync(path.join(repoRoot, f), 'utf8');
const examples = DOC_FILES.filter((f) => existsSync(path.join(repoRoot, f))).flatMap(docExamples);
const runnable = examples.filter((e) => e.expectStatus !== undefined);

describe('command examples', () => {
  it('the docs have runnable examples, and every skipped one says why (e.g. needs a cluster)', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(4);
    for (const e of examples.filter((x) => x.expectStatus === undefined))
      expect({ at: `${e.file}:${e.line}`, reason: (e.marker ?? '').length > 5 }).toEqual({ at: `${e.file}:${e.line}`, reason: true });
  });

  it('no example kubectl command uses the bare plural xsecurebuckets (two APIs serve it; tenants get Forbidden)', () => {
    const bare = examples.flatMap((e) =>
      e.code
        .split('\n')
        .filter((l) => /kubectl \w+ (-\S+ )*xsecurebuckets?(\s|$)/.test(l))
        .map((l) => `${e.file}:${e.line}: ${l.trim()}`),
    );
    expect(bare).toEqual([]);
  });

  describe('run in a fresh clone, each exits as documented', () => {
    const clone = freshClone('doc-examples-');
    afterAll(() => rmSync(path.dirname(clone), { recursive: true, force: true }));
    it.each(runnable.filter((e) => !e.marker?.startsWith('run by ')).map((e): [string, DocExample] => [`${e.file}:${e.line}`, e]))(
      '%s',
      (_at, e) => {
        const run = runScript(e.code, clone);
        expect({ status: run.status, stderr: run.status === e.expectStatus ? '' : run.stderr.slice(-3000) }).toEqual({ status: e.expectStatus, stderr: '' });
      },
      300_000,
    );
  });
});

describe('every section a message or doc names exists', () => {
  /** Markdown headings and bold run-in headings (`**Dedicated endpoints.**`) of a doc. */
  const sections = (file: string): string[] => {
    const text = read(file);
    return [
      ...[...text.matchAll(/^#+\s+(.+?)\s*$/gm)].map((m) => m[1] as string),
      ...[...text.matchAll(/^\s*(?:\d+\.\s+)?\*\*(.+?)[.:]?\*\*/gm)].map((m) => m[1] as string),
    ].map((s) => s.replace(/`/g, ''));
  };
  const sources = (dir: string): string[] =>
    readdirSync(path.join(repoRoot, dir)).flatMap((e) => {
      const rel = path.join(dir, e);
      if (['node_modules', 'dist', 'generated', '.git', 'golden'].includes(e)) return [];
      if (statSync(path.join(repoRoot, rel)).isDirectory()) return sources(rel);
      return /\.(ts|ya?ml|md)$/.test(e) ? [rel] : [];
    });
  const files = ['functions', 'cdk8s', 'tools', 'compositions', 'clusters', 'docs', 'bench'].flatMap(sources).concat(['README.md', 'Makefile']);
  const REF = /([\w./-]*(?:README|[\w-]+\.md))(?:,|:)?\s+(?:section\s+)?["“]([^"”\n]{3,80})["”]/g;
  const refs = files.flatMap((f) =>
    [...read(f).matchAll(REF)].map((m) => {
      const doc = (m[1] as string).endsWith('.md') ? (m[1] as string) : `${m[1] as string}.md`;
      // Relative to the repository root, or to the citing file's folder (docs/ cite each other).
      const target = [doc, path.join(path.dirname(f), doc)].find((d) => existsSync(path.join(repoRoot, d))) ?? doc;
      return { from: f, doc: target, section: (m[2] as string).replace(/`/g, '') };
    }),
  );

  it('finds the references (the messages that send a user to a section)', () => {
    expect(refs.filter((r) => r.from.startsWith('functions/')).length).toBeGreaterThanOrEqual(3);
  });

  it('each names a heading of an existing doc', () => {
    const missing = refs.filter(
      (r) => !existsSync(path.join(repoRoot, r.doc)) || !sections(r.doc).some((s) => s === r.section || s.startsWith(`${r.section} (`)),
    );
    expect(missing.map((r) => `${r.from}: ${r.doc}, "${r.section}"`)).toEqual([]);
  });
});

describe('README cost figures come from render --cost', () => {
  const table = read('README.md').split('<!-- cost-figures: make cost -->')[1]?.split('\n\n')[0] ?? '';
  const rows = [...table.matchAll(/^\| ([a-z-]+) \| ([0-9.,]+) USD \| ([0-9.,]+) USD \|$/gm)];
  it('lists every example claim', () => {
    expect(rows.map((r) => r[1]).sort()).toEqual(
      readdirSync(path.join(repoRoot, 'compositions/examples/claims'))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.replace(/\.yaml$/, ''))
        .sort(),
    );
  });
  it.each(rows.map((r) => [r[1] as string, r[2] as string, r[3] as string]))('%s: %s USD, %s USD through a NAT', (claim, endpoint, nat) => {
    const run = render(['--cost', `compositions/examples/claims/${claim}.yaml`]);
    expect(run.status).toBe(0);
    expect(/total with the S3 gateway endpoint\s+([0-9.,]+) USD/.exec(run.stdout)?.[1]).toBe(endpoint);
    expect(/total through a NAT gateway\s+([0-9.,]+) USD/.exec(run.stdout)?.[1]).toBe(nat);
  });
});

describe('troubleshooting covers both APIs', () => {
  const text = read('docs/troubleshooting.md');
  it('with the fully qualified plural of each', () => {
    expect(text).toContain('kubectl get xsecurebuckets.storage.platform.example.org -n');
    expect(text).toContain('kubectl get xsecurebucketclaims -n');
    expect(text).toContain('xsecurebuckets.platform.example.org');
  });
  it('and every warning the function emits has a row', () => {
    const reasons = [
      ...read('functions/secure-bucket/src/core/warnings.ts').matchAll(/reason: '(\w+)'/g),
      ...read('functions/secure-bucket/src/core/compose.ts').matchAll(/reason: '(\w+)'/g),
    ].map((m) => m[1] as string);
    expect(reasons.length).toBeGreaterThanOrEqual(4);
    for (const r of reasons) expect({ r, documented: text.includes(`| \`${r}\` |`) }).toEqual({ r, documented: true });
  });
});

describe('repository hygiene', () => {
  it('make help lists every target of the Makefile, one line each', () => {
    const targets = [...read('Makefile').matchAll(/^([a-z][a-z-]*):(?!=)/gm)].map((m) => m[1] as string);
    const help = execFileSync('make', ['-s', 'help'], { cwd: repoRoot, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(targets.length).toBeGreaterThan(15);
    for (const t of new Set(targets)) expect({ t, lines: help.filter((l) => l.trim().split(/\s+/)[0] === t).length }).toEqual({ t, lines: 1 });
  });
  it('LICENSE is the Apache License 2.0 the package metadata names; .nvmrc is 20, as engines allows', () => {
    expect(read('functions/secure-bucket/package/crossplane.yaml')).toContain('meta.crossplane.io/license: Apache-2.0');
    expect((JSON.parse(read('package.json')) as { license: string }).license).toBe('Apache-2.0');
    expect(read('LICENSE')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(read('.nvmrc').trim()).toBe('20');
  });
  it('CHANGELOG summarises issues 19 to 23', () => {
    for (const n of [19, 20, 21, 22, 23]) expect(read('CHANGELOG.md')).toMatch(new RegExp(`^### Issue ${n}:`, 'm'));
  });
  it('a pull-request workflow runs the tests and the access gate with FAIL_ON_WIDENING=1', () => {
    const wf = read('.github/workflows/pull-request.yaml');
    expect(wf).toMatch(/pull_request:/);
    expect(wf).toContain('.ci/run');
    expect(wf).toMatch(/make access-diff .*FAIL_ON_WIDENING=1/);
  });
});
