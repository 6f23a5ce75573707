// Issue 23, messages: contradictory settings get a warning naming both fields, an unquoted TLS
// version is told to quote it, and the documented-valid lifecycle (expiry inside GLACIER's
// minimum stay) renders, with the billed shortfall as a warning.
import { describe, expect, it } from '@jest/globals';
import { renderClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { environmentConfig, exampleClaim, inProcessClient, withSpec, type Json } from '../lib/function-fixtures.js';
import type { Claim } from '../../functions/secure-bucket/cli/control-plane/index.js';

async function warningsOf(claim: Claim, env: Json = environmentConfig()): Promise<{ fatal?: string; warnings: string[] }> {
  const out = await renderClaim(inProcessClient, claim, { clusterObjects: [env] });
  return { ...(out.fatal !== undefined ? { fatal: out.fatal } : {}), warnings: out.results.filter((r) => r.severity === 'Warning').map((r) => r.message) };
}

const archive = exampleClaim('audit-archive');
const scratch = exampleClaim('scratch');

describe('contradictory settings: a warning naming both fields', () => {
  it('a 7-year lock with a 365-day expiry', async () => {
    const out = await warningsOf(
      withSpec(archive, (s) => {
        s['objectLock'] = { mode: 'Compliance', years: 7 };
        s['lifecycle'] = { expireAfterDays: 365 };
      }),
    );
    expect(out.fatal).toBeUndefined();
    expect(out.warnings).toEqual([
      expect.stringMatching(
        /^spec\.objectLock\.years locks every object for 2555 days, longer than spec\.lifecycle\.expireAfterDays \(365\).*Fix: raise spec\.lifecycle\.expireAfterDays/,
      ),
    ]);
  });

  it('a replica in a region where the platform keeps no access logs', async () => {
    const env = environmentConfig((d) => {
      (d['audit'] as Json)['logBucketsByRegion'] = {};
    });
    const out = await warningsOf(archive, env);
    expect(out.fatal).toBeUndefined();
    expect(out.warnings).toEqual([
      expect.stringMatching(/^spec\.replication\.destinationRegion is eu-west-1, but .*data\.audit\.logBucketsByRegion\.eu-west-1.*Fix: /),
    ]);
  });

  it('the example claims, as committed, get none of these warnings', async () => {
    for (const name of ['audit-archive', 'sales-events', 'scratch'])
      expect({ name, ...(await warningsOf(exampleClaim(name))) }).toEqual({ name, warnings: [] });
  });
});

describe('lifecycle: documented valid is accepted', () => {
  it('expiry 100 days after GLACIER at day 90 renders, and warns that GLACIER bills 90 days', async () => {
    const out = await warningsOf(withSpec(scratch, (s) => (s['lifecycle'] = { transitions: [{ days: 90, storageClass: 'GLACIER' }], expireAfterDays: 100 })));
    expect(out.fatal).toBeUndefined();
    expect(out.warnings).toEqual([
      expect.stringMatching(
        /^spec\.lifecycle\.expireAfterDays \(100\) .*spec\.lifecycle\.transitions\[0\] moves them to GLACIER.*at least 90 days.*Fix: set spec\.lifecycle\.expireAfterDays to 180 or more/,
      ),
    ]);
  });
});

describe('an unquoted TLS version', () => {
  it('minimumVersion: 1.3 (a YAML number) is told to quote it, not to type 1.3 again', async () => {
    const out = await warningsOf(withSpec(scratch, (s) => (s['tls'] = { minimumVersion: 1.3 })));
    expect(out.fatal).toMatch(/spec\.tls\.minimumVersion: must be a string, got the number 1\.3 .*Fix: quote it: minimumVersion: "1\.3"/);
  });
});
