// Object lock (WORM) and versioning: rendered only for the claims that need them, and a claim
// change that would remove lock or weaken COMPLIANCE retention is a Fatal read from observed state.
import { describe, expect, it } from '@jest/globals';
import { buildContext, governanceBypassStatement, readEnvironment, readIdentity, readSpec } from '../../functions/secure-bucket/src/core/index.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { environmentConfig, exampleClaim, withSpec } from '../lib/function-fixtures.js';
import { evaluateS3, paths, policySetFor, type Caller } from '../lib/simulate.js';
import type { AccountState } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { fp, render, renderOk, statementsOf } from './protection-fixtures.js';

const archive = exampleClaim('audit-archive');
const scratch = exampleClaim('scratch');

const ARCHIVE_BUCKET = 'acme-stg-team-inventory-audit-archive';
const OWNED = { 'platform.example.org/claim-namespace': 'team-inventory' };

/** What AWS holds for a bucket of team-inventory created with object lock (settings as provider-aws reports them). */
function lockedInAws(mode: 'COMPLIANCE' | 'GOVERNANCE', retention: { days?: number; years?: number }, bucket = ARCHIVE_BUCKET): AccountState {
  return {
    Bucket: { [bucket]: { objectLockEnabled: true, tags: OWNED } },
    BucketObjectLockConfiguration: { [bucket]: { objectLockEnabled: 'Enabled', rule: { defaultRetention: { mode, ...retention } } } },
  };
}

describe('object lock is rendered only when the claim asks', () => {
  it('audit-archive: lock enabled on the bucket, COMPLIANCE 2555 days by default, versioning on', async () => {
    const r = await renderOk(archive);
    expect(fp(r, 'bucket')['objectLockEnabled']).toBe(true);
    expect(fp(r, 'bucket-object-lock')).toMatchObject({ objectLockEnabled: 'Enabled', rule: { defaultRetention: { mode: 'COMPLIANCE', days: 2555 } } });
    expect(fp(r, 'bucket-versioning')['versioningConfiguration']).toEqual({ status: 'Enabled' });
  });

  it.each(['scratch', 'sales-events'])('%s: no lock configuration, no versioning, lock off on the bucket', async (name) => {
    const r = await renderOk(exampleClaim(name));
    expect(r['bucket-object-lock']).toBeUndefined();
    expect(r['bucket-versioning']).toBeUndefined();
    expect(fp(r, 'bucket')['objectLockEnabled']).toBe(false);
  });

  it('versioning: Enabled alone turns versioning on without lock', async () => {
    const r = await renderOk(withSpec(scratch, (s) => (s['versioning'] = 'Enabled')));
    expect(r['bucket-versioning']).toBeDefined();
    expect(r['bucket-object-lock']).toBeUndefined();
  });

  it('years are passed through as years', async () => {
    const r = await renderOk(withSpec(scratch, (s) => (s['objectLock'] = { mode: 'Governance', years: 2 })));
    expect(fp(r, 'bucket-object-lock')['rule']).toEqual({ defaultRetention: { mode: 'GOVERNANCE', years: 2 } });
  });
});

describe('a claim change that would weaken lock is a Fatal, never a silent no-op', () => {
  it('removing objectLock from a locked bucket', async () => {
    const out = await render(
      withSpec(archive, (s) => delete s['objectLock']),
      environmentConfig(),
      lockedInAws('COMPLIANCE', { days: 2555 }),
    );
    expect(out.fatal).toMatch(/^spec\.objectLock: was removed, .*object lock enabled.*AWS can never disable it\. Fix: restore spec\.objectLock/);
  });

  it('removing objectLock when only the bucket reports lock (no retention yet)', async () => {
    const held: AccountState = { Bucket: { [ARCHIVE_BUCKET]: { objectLockEnabled: true, tags: OWNED } } };
    const out = await render(
      withSpec(archive, (s) => delete s['objectLock']),
      environmentConfig(),
      held,
    );
    expect(out.fatal).toMatch(/^spec\.objectLock: was removed/);
  });

  it('shortening COMPLIANCE days', async () => {
    const out = await render(
      withSpec(archive, (s) => (s['objectLock'] = { mode: 'Compliance', days: 30 })),
      environmentConfig(),
      lockedInAws('COMPLIANCE', { days: 2555 }),
    );
    expect(out.fatal).toMatch(
      /^spec\.objectLock\.days: would shorten the COMPLIANCE default retention from COMPLIANCE 2555 days to COMPLIANCE 30 days\. Fix: keep the retention at days: 2555 or longer/,
    );
  });

  it('shortening COMPLIANCE by switching to fewer years', async () => {
    const out = await render(
      withSpec(archive, (s) => (s['objectLock'] = { mode: 'Compliance', years: 6 })),
      environmentConfig(),
      lockedInAws('COMPLIANCE', { days: 2555 }),
    );
    expect(out.fatal).toMatch(/^spec\.objectLock\.years: would shorten/);
  });

  it('switching COMPLIANCE to GOVERNANCE', async () => {
    const out = await render(
      withSpec(archive, (s) => (s['objectLock'] = { mode: 'Governance', days: 2555 })),
      environmentConfig(),
      lockedInAws('COMPLIANCE', { days: 2555 }),
    );
    expect(out.fatal).toMatch(/^spec\.objectLock\.mode: .*COMPLIANCE to GOVERNANCE.*Fix: keep spec\.objectLock\.mode: Compliance/);
  });

  it.each([
    ['lengthening COMPLIANCE', { mode: 'Compliance', days: 3650 }, lockedInAws('COMPLIANCE', { days: 2555 })],
    ['the same retention in years (7 years = 2555 days)', { mode: 'Compliance', years: 7 }, lockedInAws('COMPLIANCE', { days: 2555 })],
    ['GOVERNANCE to COMPLIANCE', { mode: 'Compliance', days: 30 }, lockedInAws('GOVERNANCE', { days: 30 })],
    [
      'adding lock to an existing unlocked bucket',
      { mode: 'Compliance', days: 1 },
      { Bucket: { [ARCHIVE_BUCKET]: { objectLockEnabled: false, tags: OWNED } } },
    ],
  ])('allowed: %s', async (_what, lock, held) => {
    const out = await render(
      withSpec(archive, (s) => (s['objectLock'] = lock)),
      environmentConfig(),
      held as AccountState,
    );
    expect(out.fatal).toBeUndefined();
  });

  it('shortening GOVERNANCE retention is refused too: a default retention only grows', async () => {
    const out = await render(
      withSpec(archive, (s) => (s['objectLock'] = { mode: 'Governance', days: 1 })),
      environmentConfig(),
      lockedInAws('GOVERNANCE', { days: 30 }),
    );
    expect(out.fatal).toMatch(/^spec\.objectLock\.days: would shorten the GOVERNANCE default retention from GOVERNANCE 30 days to GOVERNANCE 1 days/);
  });
});

describe('governance bypass: only the named consumers and break-glass; compliance: nobody', () => {
  const governed = withSpec(exampleClaim('sales-events'), (s) => {
    s['objectLock'] = { mode: 'Governance', days: 30, governanceBypassConsumers: ['sales-api'] };
  });

  function contextOf(claim: typeof governed) {
    const composite = compositeForClaim(claim);
    const env = readEnvironment(environmentConfig()['data']);
    return buildContext(readIdentity(composite), readSpec(composite, env.region), env, {});
  }

  it('the helper for identity.ts grants bypass on the named consumer’s own prefixes only', () => {
    const ctx = contextOf(governed);
    const named = ctx.consumers.find((c) => c.name === 'sales-api')!;
    const other = ctx.consumers.find((c) => c.name === 'reporting')!;
    const statement = governanceBypassStatement(ctx, named);
    expect(statement?.Action).toEqual(['s3:BypassGovernanceRetention', 's3:DeleteObjectVersion', 's3:PutObjectRetention']);
    expect(statement?.Resource).toEqual([`${ctx.bucketArn}/sales_event/*`, `${named.accessPointArn}/object/sales_event/*`]);
    expect(governanceBypassStatement(ctx, other)).toBeUndefined();
    expect(governanceBypassStatement(contextOf(archive), contextOf(archive).consumers[0]!)).toBeUndefined();
  });

  it('bucket policy: governance denies bypass to all but the named roles and break-glass; compliance denies it to all', async () => {
    const governedPolicy = statementsOf(fp(await renderOk(governed), 'bucket-policy')['policy']);
    const ctx = contextOf(governed);
    const deny = governedPolicy.find((s) => s.Sid === 'DenyGovernanceBypassToOthers');
    expect(deny?.Condition).toEqual({
      ArnNotLike: { 'aws:PrincipalArn': [...ctx.env.access.breakGlassPrincipalArns, ctx.consumers.find((c) => c.name === 'sales-api')!.roleArn].sort() },
    });
    const compliance = statementsOf(fp(await renderOk(archive), 'bucket-policy')['policy']).find((s) => s.Sid === 'DenyGovernanceBypassToOthers');
    expect(compliance).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 's3:BypassGovernanceRetention' });
    expect(compliance?.Condition).toBeUndefined();
    const scratchPolicy = statementsOf(fp(await renderOk(scratch), 'bucket-policy')['policy']);
    expect(scratchPolicy.map((s) => s.Sid)).not.toContain('DenyGovernanceBypassToOthers');
  });

  it('simulated: the named consumer may bypass on its prefix; another consumer with the same grant may not', async () => {
    const set = policySetFor(governed);
    const ctx = contextOf(governed);
    const callerWithBypass = (name: string): Caller => {
      const consumer = set.consumers.find((c) => c.name === name)!;
      const bypass = governanceBypassStatement(ctx, { ...ctx.consumers.find((c) => c.name === 'sales-api')!, roleArn: consumer.roleArn })!;
      const grant = { Version: '2012-10-17', Statement: [{ ...bypass, Resource: `${set.bucketArn}/*` } as unknown as Record<string, unknown>] };
      return {
        id: name,
        arn: consumer.roleArn,
        identityPolicies: [
          { name: 'access', policy: consumer.accessPolicy },
          { name: 'bypass', policy: grant },
        ],
      };
    };
    const bypass = (caller: Caller, key: string) =>
      evaluateS3(set, { caller, action: 's3:BypassGovernanceRetention', target: { kind: 'object', key }, path: paths.endpoint('1.2') });
    expect(await bypass(callerWithBypass('sales-api'), 'sales_event/a.json')).toMatchObject({ allowed: true });
    expect(await bypass(callerWithBypass('reporting'), 'sales_event/a.json')).toMatchObject({
      allowed: false,
      decidedBy: 'bucket:DenyGovernanceBypassToOthers',
    });
  });
});
