// The layout a newcomer reads in the README holds: the core is reached through its one entry, and
// no file sits beside a folder of the same name (render.ts beside render/).
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../lib/repo.js';

const TOP = ['functions', 'cdk8s', 'bench', 'tools', 'tests'];
const CORE = path.join(repoRoot, 'functions/secure-bucket/src/core');

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}
const files = TOP.flatMap((t) => walk(path.join(repoRoot, t)));

describe('layout', () => {
  it('outside src/core, every import of the core goes through src/core/index.ts', () => {
    const deep: string[] = [];
    for (const f of files.filter((x) => x.endsWith('.ts') && !x.startsWith(`${CORE}/`))) {
      for (const imp of ts.preProcessFile(readFileSync(f, 'utf8'), true, true).importedFiles) {
        if (!imp.fileName.startsWith('.')) continue;
        const target = path.resolve(path.dirname(f), imp.fileName);
        if (target.startsWith(`${CORE}/`) && path.basename(target) !== 'index.js') deep.push(`${path.relative(repoRoot, f)} -> ${imp.fileName}`);
      }
    }
    expect(files.length).toBeGreaterThan(50);
    expect(deep).toEqual([]);
  });

  it('no file shares its name with a folder beside it', () => {
    const clashes: string[] = [];
    for (const dir of [...new Set(files.map((f) => path.dirname(f)))]) {
      const entries = readdirSync(dir);
      for (const e of entries) {
        const stem = e.replace(/\.[^.]+$/, '');
        if (stem !== e && entries.includes(stem) && statSync(path.join(dir, stem)).isDirectory()) clashes.push(path.relative(repoRoot, path.join(dir, e)));
      }
    }
    expect(clashes).toEqual([]);
  });
});
