// No import circle in functions/ (type-only imports count: a reader still has to hold the whole
// circle in mind), the claim reader does not pull in any renderer, and the core keeps no
// module-level memo. Run the graph alone: npm test -- tests/layout/import-graph.test.ts
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { importCircles, importGraph, reachable } from '../lib/import-graph.js';
import { repoRoot } from '../lib/repo.js';

const graph = importGraph(repoRoot, 'functions');
const CORE = 'functions/secure-bucket/src/core';

describe('the import graph of functions/', () => {
  it('has no import circle', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  it('notices a circle (the check can fail)', () => {
    const withCircle = new Map(graph);
    withCircle.set(`${CORE}/types.ts`, [...(graph.get(`${CORE}/types.ts`) ?? []), `${CORE}/compose.ts`]);
    expect(importCircles(withCircle).length).toBeGreaterThan(0);
  });

  it('keeps the claim reader apart from the renderers: claim.ts reaches only leaves', () => {
    const reached = [...reachable(graph, `${CORE}/claim.ts`)].map((f) => path.basename(f)).sort();
    expect(reached).toEqual(['api.ts', 'claim-api.generated.ts', 'family.ts', 'fields.ts', 'kinds.ts', 'spec-rules.ts', 'types.ts']);
  });

  it('owned-bucket.ts (the shared bucket facts) imports no concern module', () => {
    const concerns = ['alarms', 'audit', 'bucket', 'bucket-policy', 'encryption', 'lifecycle', 'object-lock', 'protection', 'replication'].map(
      (m) => `${CORE}/${m}.ts`,
    );
    expect([...reachable(graph, `${CORE}/owned-bucket.ts`)].filter((f) => concerns.includes(f))).toEqual([]);
  });

  it('the core keeps no module-level memo (WeakMap/Map caches of render state)', () => {
    const memo = [...graph.keys()].filter(
      (f) => f.startsWith(CORE) && /^(const|let)\s+\w+\s*=\s*new\s+(Weak)?Map\b/m.test(readFileSync(path.join(repoRoot, f), 'utf8')),
    );
    expect(memo).toEqual([]);
  });

  it('the simulated control plane is a package with one entry (control-plane/index.ts)', () => {
    const whole = new Map([
      ...graph,
      ...importGraph(repoRoot, 'tests'),
      ...importGraph(repoRoot, 'tools'),
      ...importGraph(repoRoot, 'bench'),
      ...importGraph(repoRoot, 'cdk8s'),
    ]);
    const PLANE = 'functions/secure-bucket/cli/control-plane/';
    // The package's own dependencies (the step and Composition readers) see only its leaf of shapes.
    const own = ['functions/secure-bucket/cli/xr/step.ts', 'functions/secure-bucket/cli/composition.ts'];
    const deep = [...whole].flatMap(([from, targets]) =>
      from.startsWith(PLANE)
        ? []
        : targets
            .filter((t) => t.startsWith(PLANE) && t !== `${PLANE}index.ts` && !(own.includes(from) && t === `${PLANE}options.ts`))
            .map((t) => `${from} -> ${t}`),
    );
    expect(deep).toEqual([]);
  });

  it('no test imports bench/ (what tests share lives in tools/ or tests/lib/)', () => {
    const fromTests = [...importGraph(repoRoot, 'tests')].flatMap(([from, targets]) =>
      targets.filter((t) => t.startsWith('bench/')).map((t) => `${from} -> ${t}`),
    );
    expect(fromTests).toEqual([]);
  });
});
