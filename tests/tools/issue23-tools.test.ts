// Issue 23: the summary line counts test files that did not run; make targets do not recompile when
// nothing changed; `npm test -- tests/x` passes its arguments to jest; render --cluster and
// --tenant-preview; warnings, notes and the pass count on stderr in YAML mode.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { summaryLine, suitesThatDidNotRun, type JestJson } from '../../tools/test-summary.js';
import { render, scratchDir, writeClaimFile } from '../lib/render-cli.js';
import { repoRoot } from '../lib/repo.js';
import { clusterNames, tenantNames } from '../lib/kustomize.js';

describe('make test summary line', () => {
  const results: JestJson = {
    numPassedTests: 1455,
    numFailedTests: 0,
    numFailedTestSuites: 2,
    testResults: [
      { name: path.join(process.cwd(), 'tests/a.test.ts'), status: 'passed', assertionResults: [{}, {}] },
      { name: path.join(process.cwd(), 'tests/b.test.ts'), status: 'failed', message: 'Cannot find module', assertionResults: [] },
      { name: path.join(process.cwd(), 'tests/c.test.ts'), status: 'failed', testExecError: { message: 'worker crashed' }, assertionResults: [] },
    ],
  };
  it('counts a file that failed to load or crashed as failed, and names it', () => {
    expect(suitesThatDidNotRun(results).length).toBe(2);
    expect(summaryLine(results)).toBe(
      '1455 passed, 2 failed (2 of them test file(s) that failed to load or crashed, their tests not run: tests/b.test.ts, tests/c.test.ts)',
    );
  });
  it('stays the plain line when everything ran', () => {
    expect(summaryLine({ numPassedTests: 3, numFailedTests: 1, testResults: [{ name: 'x', status: 'failed', assertionResults: [{}] }] })).toBe(
      '3 passed, 1 failed',
    );
  });
});

describe('make and npm', () => {
  it('build and typecheck are up to date when nothing changed (make -q exits 0)', () => {
    execFileSync('make', ['-s', 'build'], { cwd: repoRoot, stdio: 'pipe' });
    expect(spawnSync('make', ['-q', 'dist/.build-stamp'], { cwd: repoRoot }).status).toBe(0);
    expect(spawnSync('make', ['-n', 'build'], { cwd: repoRoot, encoding: 'utf8' }).stdout).not.toMatch(/tsc/);
  });
  it('npm test passes its arguments to jest as JEST_ARGS', () => {
    const script = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['test'] as string;
    const dry = spawnSync('sh', ['-c', `${script.replace('make test', 'make -n test')} tests/x`], { cwd: repoRoot, encoding: 'utf8' });
    expect(dry.stdout).toMatch(/jest --json --outputFile=\.test-results\.json tests\/x/);
  });
});

describe('render --cluster and --tenant-preview', () => {
  it.each(clusterNames().map((c) => [c]))("each tenant folder of %s renders with that cluster's settings, no error", (cluster) => {
    for (const tenant of tenantNames(cluster)) {
      const run = render(['--cluster', cluster, '--output', 'json', `clusters/${cluster}/tenants/${tenant}`]);
      const doc = JSON.parse(run.stdout) as { claims: Array<{ status: { region: string } }>; errors: unknown[] };
      expect({ tenant, status: run.status, errors: doc.errors }).toEqual({ tenant, status: 0, errors: [] });
      const region = /^\s+region: (\S+)/m.exec(readFileSync(path.join(repoRoot, 'clusters', cluster, 'platform/environment.yaml'), 'utf8'))?.[1];
      for (const c of doc.claims) expect(c.status.region).toBe(region);
    }
  });

  const unregistered = () => {
    const file = path.join(repoRoot, 'clusters/staging/tenants/team-sales/sales-events.yaml');
    return writeClaimFile(scratchDir(), 'new.yaml', readFileSync(file, 'utf8').replace(/namespace: team-sales/g, 'namespace: team-preview'));
  };
  it('an unregistered namespace is refused with a hint to --tenant-preview', () => {
    const run = render(['--cluster', 'staging', unregistered()]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/has no entry for namespace team-preview/);
    expect(run.stderr).toMatch(/add --tenant-preview/);
  });
  it('--tenant-preview renders it as if registered, and says so on stdout and stderr', () => {
    const run = render(['--cluster', 'staging', '--tenant-preview', unregistered()]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^# PREVIEW \(--tenant-preview\): team-preview not registered/);
    expect(run.stderr).toMatch(/note: PREVIEW/);
    const json = JSON.parse(render(['--cluster', 'staging', '--tenant-preview', '--output', 'json', unregistered()]).stdout) as { preview?: string };
    expect(json.preview).toMatch(/team-preview/);
  });
  it('--cluster and --environment together are refused', () => {
    expect(render(['--cluster', 'staging', '--environment', 'compositions/examples/environment.yaml', 'x.yaml']).status).toBe(2);
  });
});

describe('YAML mode: warnings, notes and passes on stderr', () => {
  it('a plain render says which pass it shows and how many follow', () => {
    const run = render(['compositions/examples/claims/scratch.yaml']);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^note: team-inventory\/scratch: observing what AWS already holds/m);
    expect(run.stderr).toMatch(/^note: team-inventory\/scratch: this is pass 1 \(observe-only\) of 3; 2 more follow/m);
  });
  it('--converge says it shows the last pass, and warnings show as warnings', () => {
    const file = writeClaimFile(
      scratchDir(),
      'w.yaml',
      readFileSync(path.join(repoRoot, 'compositions/examples/claims/audit-archive.yaml'), 'utf8').replace(
        'noncurrentVersionExpireAfterDays: 30',
        'noncurrentVersionExpireAfterDays: 30\n    expireAfterDays: 730',
      ),
    );
    const run = render(['--converge', file]);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(
      /^warning: team-inventory\/audit-archive: spec\.objectLock\.days locks every object for 2555 days, longer than spec\.lifecycle\.expireAfterDays \(730\)/m,
    );
    expect(run.stderr).toMatch(/converged after \d+ pass\(es\); this is the last/);
  });
});
