// All mistakes at once: a spec with several mistakes gets one Fatal listing each field, problem
// and fix (one commit, one reconcile, not one per mistake). Refusals are typed by who fixes them
// (tenant, platform, step input) and the reason comes from the type, never from a field's spelling.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Severity, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { runFunction } from '../../functions/secure-bucket/src/function.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { ClaimErrors, PlatformError, readEnvironment, readSpec, StepInputError, validateSpec } from '../../functions/secure-bucket/src/core/index.js';
import { claimOf } from '../../tools/claim-generator.js';
import { exampleEnvironment, requestFor } from '../../tools/workload.js';
import { repoRoot } from '../lib/repo.js';

type Json = Record<string, unknown>;

const threeMistakes: Json = {
  consumers: [{ name: 'api', serviceAccount: 'api', access: 'Root', prefixes: ['data/'] }],
  lifecycle: { rules: [{ name: 'logs', prefix: 'logs/' }] },
  alarms: { email: 'a!b@c.d' },
};

function fatals(rsp: RunFunctionResponse): Array<{ message: string; reason?: string }> {
  return rsp.results.filter((r) => r.severity === Severity.SEVERITY_FATAL).map((r) => ({ message: r.message, ...(r.reason ? { reason: r.reason } : {}) }));
}

describe('all mistakes at once', () => {
  it('one validation pass returns every problem of the spec', () => {
    const { problems } = validateSpec(compositeForClaim(claimOf('b', 'team-fuzz', threeMistakes)), 'us-east-1');
    // Field checks first (in spec order), then the rules across fields.
    expect(problems.map((p) => p.field)).toEqual(['spec.consumers[0].access', 'spec.alarms.email', 'spec.lifecycle.rules[0]']);
    for (const p of problems) expect(p.fix).not.toBe('');
  });

  it('the tenant gets one Fatal, one line per field with its problem and fix', async () => {
    const rsp = await runFunction(requestFor('three', compositeForClaim(claimOf('b', 'team-fuzz', threeMistakes)), exampleEnvironment()));
    const [fatal, ...more] = fatals(rsp);
    expect(more).toEqual([]);
    expect(fatal?.reason).toBe('InvalidClaim');
    const lines = fatal!.message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^spec\.consumers\[0\]\.access: 'Root' is not one of Read, Write, ReadWrite\. Fix: /);
    expect(lines[1]).toMatch(/^spec\.alarms\.email: 'a!b@c\.d' is not allowed\. Fix: /);
    expect(lines[2]).toMatch(/^spec\.lifecycle\.rules\[0\]: .*neither transitions nor expireAfterDays.*\. Fix: /);
  });

  it('readSpec throws the problems as one ClaimErrors', () => {
    expect(() => readSpec(compositeForClaim(claimOf('b', 'team-fuzz', threeMistakes)), 'us-east-1')).toThrow(ClaimErrors);
  });
});

describe('refusals are typed by who fixes them', () => {
  it('an EnvironmentConfig mistake is a PlatformError, reason InvalidEnvironment', async () => {
    const env = exampleEnvironment();
    (env['data'] as Json)['accountId'] = 'not-an-account';
    expect(() => readEnvironment(env['data'])).toThrow(PlatformError);
    const rsp = await runFunction(requestFor('env', compositeForClaim(claimOf('b', 'team-fuzz', {})), env));
    expect(fatals(rsp)[0]?.reason).toBe('InvalidEnvironment');
  });

  it('a step input mistake is a StepInputError, reason InvalidInput', async () => {
    const req = requestFor('input', compositeForClaim(claimOf('b', 'team-fuzz', {})), exampleEnvironment());
    req.input = { environmentConfigName: 'Not A Name' };
    const rsp = await runFunction(req);
    expect(fatals(rsp)[0]?.reason).toBe('InvalidInput');
    expect(new StepInputError('input.x', 'p', 'f').fixedBy).toBe('step-input');
  });

  it('the reason is never recovered by parsing a field prefix', () => {
    const source = readFileSync(path.join(repoRoot, 'functions/secure-bucket/src/function.ts'), 'utf8');
    expect(source).not.toMatch(/field\.startsWith\(/);
  });
});

describe('red team: the Fatal stays bounded', () => {
  const unknownKeys = (n: number, len: number): Json => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`.padEnd(len, 'z'), 1]));

  it('red team: 100,000 unknown spec keys give a bounded Fatal, not tens of megabytes', async () => {
    const rsp = await runFunction(requestFor('many', compositeForClaim(claimOf('b', 'team-fuzz', unknownKeys(100_000, 1))), exampleEnvironment()));
    const [fatal] = fatals(rsp);
    expect(fatal?.reason).toBe('InvalidClaim');
    expect(fatal!.message).toMatch(/^spec\.k0: is not a field/);
    expect(fatal!.message).toMatch(/more problems not listed/);
    expect(fatal!.message.length).toBeLessThan(64 * 1024);
  });

  it('red team: a long unknown key is shown truncated, and a newline in it cannot forge a line', async () => {
    const spec: Json = { ['a'.repeat(100_000)]: 1, 'x\nspec.region: fine. Fix: nothing': 1 };
    const rsp = await runFunction(requestFor('long', compositeForClaim(claimOf('b', 'team-fuzz', spec)), exampleEnvironment()));
    const [fatal] = fatals(rsp);
    expect(fatal!.message.length).toBeLessThan(4 * 1024);
    expect(fatal!.message.split('\n')).toHaveLength(2);
    expect(fatal!.message).not.toMatch(/^spec\.region/m);
  });
});
