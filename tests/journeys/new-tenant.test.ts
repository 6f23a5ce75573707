// Issue 23: a new tenant, exactly as clusters/README.md "Add a tenant" documents it, in a fresh
// clone: the platform team's `make tenant` (staging only, v2), the tenant's bucket, `make synth`,
// a render with the cluster's settings; then the suites a tenant touches, run in that clone, green.
// Nothing here names the tenants the repository already has.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { docExamples, freshClone, runScript } from '../lib/doc-examples.js';

const SUITES = ['tests/gitops', 'tests/cdk8s/stale.test.ts', 'tests/cdk8s/generated-objects.test.ts', 'tests/layout', 'tests/schemas/repo-yaml.test.ts'];
const journey = docExamples('clusters/README.md').find((e) => e.marker?.includes('tests/journeys/new-tenant.test.ts'));

describe('clusters/README.md "Add a tenant", in a fresh clone', () => {
  const clone = freshClone('new-tenant-');
  afterAll(() => rmSync(path.dirname(clone), { recursive: true, force: true }));

  it('the documented journey ends with make test, which this test replaces by the suites it affects', () => {
    expect(journey?.code.trim().split('\n').at(-1)).toBe('make test');
  });

  it('runs as documented, touching the files the README lists and no other', () => {
    const steps = (journey?.code ?? '').replace(/\nmake test\s*$/, '\n');
    const run = runScript(steps, clone);
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    const changed = runScript('git status --porcelain --untracked-files=all', clone)
      .stdout.split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3))
      .sort();
    expect(changed).toEqual([
      'clusters/base/tenants/team-web/kustomization.yaml',
      'clusters/staging/platform/environment.yaml',
      'clusters/staging/tenants/kustomization.yaml',
      'clusters/staging/tenants/team-web/generated/kustomization.yaml',
      'clusters/staging/tenants/team-web/generated/reports.example.yaml',
      'clusters/staging/tenants/team-web/generated/reports.yaml',
      'clusters/staging/tenants/team-web/kustomization.yaml',
      'clusters/staging/tenants/team-web/reports.yaml',
    ]);
  }, 300_000);

  it('then the affected suites pass in the clone, with the new tenant among the tested ones', () => {
    const run = runScript(
      `node_modules/.bin/jest --ci --json --outputFile=.journey.json ${SUITES.join(' ')} > /dev/null 2>&1 || true; node -e 'const r=require("./.journey.json"); console.log(JSON.stringify({failed: r.numFailedTests, suitesFailed: r.numFailedTestSuites, passed: r.numPassedTests, web: r.testResults.flatMap((s) => s.assertionResults).filter((a) => a.fullName.includes("team-web")).length, failures: r.testResults.filter((s) => s.status !== "passed").map((s) => s.message.slice(0, 2000))}))'`,
      clone,
      600_000,
    );
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
      failed: number;
      suitesFailed: number;
      passed: number;
      web: number;
      failures: string[];
    };
    expect({ failed: result.failed, suitesFailed: result.suitesFailed, failures: result.failures }).toEqual({ failed: 0, suitesFailed: 0, failures: [] });
    expect(result.passed).toBeGreaterThan(100);
    // The tenant-derived describe blocks include team-web: the tests found it without being told.
    expect(result.web).toBeGreaterThan(5);
  }, 600_000);
});
