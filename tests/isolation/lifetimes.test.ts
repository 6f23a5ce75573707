// Across a claim's lifetimes: AWS keeps the Orphan bucket, key and lock after the claim is deleted,
// so a re-created claim, or another claim naming the same bucket, meets what AWS holds. End to end:
// the render CLI drives the real function over gRPC against a simulated account
// (--account-state / --save-account-state / --delete).
import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import type { AccountState } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { exampleClaim, withSpec, type Json } from '../lib/function-fixtures.js';
import { getSchemaRegistry } from '../lib/schema-validator.js';
import { repoRoot } from '../lib/repo.js';

const cli = path.join(repoRoot, 'dist/functions/secure-bucket/cli/render.js');
const dir = mkdtempSync(path.join(tmpdir(), 'lifetimes-'));
const ARCHIVE = 'acme-stg-team-inventory-audit-archive';

function render(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
}

function file(name: string, content: unknown): string {
  const where = path.join(dir, name);
  // JSON is YAML: a claim file either way.
  writeFileSync(where, typeof content === 'string' ? content : JSON.stringify(content));
  return where;
}

const readState = (where: string) => JSON.parse(readFileSync(where, 'utf8')) as AccountState;
type Doc = { kind: string; metadata: { annotations: Record<string, string> }; spec: { forProvider: Json; managementPolicies?: string[] } };
const byName = (stdout: string) => new Map((loadAll(stdout) as Doc[]).map((d) => [d.metadata.annotations['crossplane.io/composition-resource-name'], d]));

/** The audit-archive claim (COMPLIANCE 2555 days) created, converged, then deleted: what AWS keeps. */
let afterDeletion: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run 'make build' (make test does it) before these tests`);
  afterDeletion = path.join(dir, 'after-deletion.json');
  const run = render(['--converge', '--delete', '--save-account-state', afterDeletion, 'compositions/examples/claims/audit-archive.yaml']);
  if (run.status !== 0) throw new Error(run.stderr);
});

describe('delete the claim: AWS keeps the data and every control that protects it', () => {
  it('the buckets, keys, lock, encryption, policy and public access block outlive it; roles, alarms and audit wiring go', () => {
    const held = readState(afterDeletion);
    expect(Object.keys(held['Bucket'] ?? {})).toContain(ARCHIVE);
    expect(held['BucketObjectLockConfiguration']?.[ARCHIVE]?.['rule']).toEqual({ defaultRetention: { mode: 'COMPLIANCE', days: 2555 } });
    expect(Object.keys(held['Key'] ?? {})).toHaveLength(2); // the source's and the replica's
    for (const kind of ['BucketPolicy', 'BucketPublicAccessBlock', 'BucketServerSideEncryptionConfiguration', 'BucketVersioning'])
      expect(held[kind]?.[ARCHIVE]).toBeDefined();
    for (const kind of ['Role', 'BucketLifecycleConfiguration', 'BucketLogging', 'Rule', 'BucketReplicationConfiguration']) expect(held[kind]).toBeUndefined();
  });
});

describe('re-created weaker over what AWS holds: refused, nothing changed', () => {
  it('Compliance 2555 days becomes Governance 1 day with a bypass consumer: a Fatal naming the mode, the account untouched', () => {
    const weaker = withSpec(
      exampleClaim('audit-archive'),
      (s) => (s['objectLock'] = { mode: 'Governance', days: 1, governanceBypassConsumers: ['audit-writer'] }),
    );
    const saved = path.join(dir, 'after-weaker.json');
    const run = render(['--converge', '--account-state', afterDeletion, '--save-account-state', saved, file('weaker.yaml', weaker)]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /spec\.objectLock\.mode: would change the default retention from COMPLIANCE to GOVERNANCE.*Fix: keep spec\.objectLock\.mode: Compliance \(current retention COMPLIANCE 2555 days\)/,
    );
    expect(readState(saved)).toEqual(readState(afterDeletion));
  });

  it('the same lock with a shorter retention is refused the same way', () => {
    const shorter = withSpec(exampleClaim('audit-archive'), (s) => (s['objectLock'] = { mode: 'Compliance', days: 30 }));
    const run = render(['--converge', '--account-state', afterDeletion, file('shorter.yaml', shorter)]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/spec\.objectLock\.days: would shorten the COMPLIANCE default retention from COMPLIANCE 2555 days to COMPLIANCE 30 days/);
  });

  it('without --converge only the observers are printed: every resource that may exist is Observe-only, and valid', () => {
    const run = render(['--account-state', afterDeletion, 'compositions/examples/claims/audit-archive.yaml']);
    expect(run.status).toBe(0);
    const docs = [...byName(run.stdout).values()];
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) expect([d.kind, d.spec.managementPolicies]).toEqual([d.kind, ['Observe']]);
    const registry = getSchemaRegistry();
    for (const d of docs) expect(registry.validate(d).errors).toEqual([]);
  });
});

describe('a key the bucket is encrypted with, gone from AWS', () => {
  it('is never replaced: a re-created claim whose key AWS reports absent (pending deletion) gets a Fatal naming the key, the account untouched', () => {
    const state = readState(afterDeletion);
    const sse = JSON.stringify(state['BucketServerSideEncryptionConfiguration']?.[ARCHIVE]?.['rule']);
    const keyId = Object.keys(state['Key'] ?? {}).find((id) => sse.includes(`key/${id}`));
    expect(keyId).toBeDefined();
    // Terraform reads a key pending deletion as not found: the provider reports it absent.
    delete state['Key']![keyId!];
    const vanished = file('key-vanished.json', state);
    const saved = path.join(dir, 'key-vanished-after.json');
    const run = render(['--converge', '--account-state', vanished, '--save-account-state', saved, 'compositions/examples/claims/audit-archive.yaml']);
    expect(run.stderr).toMatch(
      new RegExp(
        `spec\\.naming\\.name: s3://${ARCHIVE} is encrypted in AWS with KMS key ${keyId}, which AWS reports does not exist.*Fix: .*cancel-key-deletion --key-id ${keyId}`,
      ),
    );
    expect(run.status).not.toBe(0);
    expect(readState(saved)).toEqual(readState(vanished));
  });
});

describe('re-created as it was: takes over what AWS holds, and keeps the keys', () => {
  it('converges onto the orphaned bucket and both orphaned keys: no second key, encryption never moves', () => {
    const saved = path.join(dir, 'after-recreate.json');
    const run = render(['--converge', '--account-state', afterDeletion, '--save-account-state', saved, 'compositions/examples/claims/audit-archive.yaml']);
    expect(run.stderr).not.toMatch(/^(error|warning):/m); // notes (passes, pending values) are expected on stderr
    expect(run.status).toBe(0);
    const before = readState(afterDeletion);
    const after = readState(saved);
    expect(Object.keys(after['Key'] ?? {}).sort()).toEqual(Object.keys(before['Key'] ?? {}).sort());
    const docs = byName(run.stdout);
    const keyId = docs.get('kms-key')!.metadata.annotations['crossplane.io/external-name'];
    expect(Object.keys(before['Key'] ?? {})).toContain(keyId);
    const sse = after['BucketServerSideEncryptionConfiguration']?.[ARCHIVE]?.['rule'] as Json[];
    expect(JSON.stringify(sse)).toContain(`key/${keyId}`);
    for (const d of docs.values()) expect([d.kind, d.spec.managementPolicies]).toEqual([d.kind, undefined]);
  });
});

describe('another namespace, or nobody the platform knows, holds the name: refused, nothing changed', () => {
  const held = (tags: Json): AccountState => ({ Bucket: { 'acme-stg-team-sales-legacy': { objectLockEnabled: false, tags } } });
  const fixed = withSpec(exampleClaim('scratch'), (s) => (s['naming'] = { strategy: 'Fixed', name: 'acme-stg-team-sales-legacy' }));
  const claimInTeamSales = { ...fixed, metadata: { name: 'legacy', namespace: 'team-sales' } };

  it.each([
    ['belongs to namespace team-inventory', { 'platform.example.org/claim-namespace': 'team-inventory' }],
    ['carries no platform ownership tag', {}],
  ])('a bucket under the Fixed name that %s', (why, tags) => {
    const state = file(`held-${Object.keys(tags).length}.json`, JSON.stringify(held(tags)));
    const saved = path.join(dir, `held-after-${Object.keys(tags).length}.json`);
    const run = render(['--converge', '--account-state', state, '--save-account-state', saved, file('legacy.yaml', claimInTeamSales)]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`spec.naming.name: s3://acme-stg-team-sales-legacy already exists in AWS and ${why}`);
    expect(run.stderr).toContain('Fix: choose another fixed name, or use strategy Generated');
    expect(readState(saved)).toEqual(held(tags));
  });

  it("the same bucket tagged as team-sales' is taken over", () => {
    const state = file('held-own.json', JSON.stringify(held({ 'platform.example.org/claim-namespace': 'team-sales' })));
    const run = render(['--converge', '--account-state', state, file('legacy-own.yaml', claimInTeamSales)]);
    expect(run.stderr).not.toMatch(/^(error|warning):/m); // notes (passes, pending values) are expected on stderr
    expect(run.status).toBe(0);
  });
});

describe('object lock added later goes through the lock configuration, never Bucket.objectLockEnabled', () => {
  it('an existing unlocked bucket keeps objectLockEnabled false (replace-only); the lock configuration enables lock, versioning is on', () => {
    const saved = path.join(dir, 'scratch.json');
    expect(render(['--converge', '--save-account-state', saved, 'compositions/examples/claims/scratch.yaml']).status).toBe(0);
    const locked = withSpec(exampleClaim('scratch'), (s) => (s['objectLock'] = { mode: 'Compliance', days: 30 }));
    const run = render(['--converge', '--account-state', saved, file('scratch-locked.yaml', locked)]);
    expect(run.stderr).not.toMatch(/^(error|warning):/m); // notes (passes, pending values) are expected on stderr
    const docs = byName(run.stdout);
    expect(docs.get('bucket')!.spec.forProvider['objectLockEnabled']).toBe(false);
    expect(docs.get('bucket-object-lock')!.spec.forProvider).toMatchObject({
      objectLockEnabled: 'Enabled',
      rule: { defaultRetention: { mode: 'COMPLIANCE', days: 30 } },
    });
    expect(docs.get('bucket-versioning')!.spec.forProvider['versioningConfiguration']).toEqual({ status: 'Enabled' });
  });

  it('a bucket created with the lock sets it at creation', () => {
    const locked = withSpec(exampleClaim('scratch'), (s) => (s['objectLock'] = { mode: 'Compliance', days: 30 }));
    const run = render(['--converge', file('scratch-new-locked.yaml', locked)]);
    expect(byName(run.stdout).get('bucket')!.spec.forProvider['objectLockEnabled']).toBe(true);
  });
});

describe('--account-state input is checked', () => {
  it('a missing file and a malformed one are named, with the expected shape', () => {
    const missing = render(['--converge', '--account-state', path.join(dir, 'nope.json'), 'compositions/examples/claims/scratch.yaml']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/--account-state .*nope\.json: no such file/);
    const bad = render(['--converge', '--account-state', file('bad.yaml', 'Bucket: [1, 2]\n'), 'compositions/examples/claims/scratch.yaml']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/bad\.yaml: expected one mapping of kind -> external name -> settings/);
  });
});

describe("a second live claim of the same namespace cannot take over the first one's bucket", () => {
  it('the bucket tagged as claim scratch is refused to claim twin; the same claim re-created takes it over', () => {
    const saved = path.join(dir, 'twin.json');
    const fixed = withSpec(exampleClaim('scratch'), (s) => (s['naming'] = { strategy: 'Fixed', name: 'acme-stg-team-inventory-ledger' }));
    expect(render(['--converge', '--save-account-state', saved, file('ledger.yaml', fixed)]).status).toBe(0);
    const twin = { ...fixed, metadata: { name: 'twin', namespace: 'team-inventory' }, spec: { ...fixed.spec, lifecycle: { expireAfterDays: 1 } } };
    const run = render(['--converge', '--account-state', saved, file('twin.yaml', twin)]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('spec.naming.name: s3://acme-stg-team-inventory-ledger already exists in AWS and belongs to claim scratch of this namespace');
    expect(render(['--converge', '--account-state', saved, file('ledger-again.yaml', fixed)]).status).toBe(0);
  });
});

describe('names a claim cannot get wrong', () => {
  it('a dotted claim name renders names without dots (dots break TLS and access points refuse them)', () => {
    const dotted = { ...exampleClaim('sales-events'), metadata: { name: 'sales.v2', namespace: 'team-sales' } };
    const run = render(['--converge', file('dotted.yaml', dotted)]);
    expect(run.status).toBe(0);
    for (const d of byName(run.stdout).values()) {
      if (d.kind === 'Bucket') expect(d.metadata.annotations['crossplane.io/external-name']).not.toContain('.');
      if (d.kind === 'AccessPoint') expect(String(d.spec.forProvider['name'])).not.toContain('.');
    }
  });

  it('a consumer named replication is refused: the replication role would share its IAM name', () => {
    const clash = withSpec(exampleClaim('audit-archive'), (s) => ((s['consumers'] as Json[])[0]!['name'] = 'replication'));
    const run = render([file('clash.yaml', clash)]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("spec.consumers[0].name: 'replication' is reserved for the bucket's replication role");
  });

  it("alarms go to the tenant's own topics only: another team's pager topic is refused", () => {
    const pager = withSpec(exampleClaim('sales-events'), (s) => (s['alarms'] = { snsTopicArn: 'arn:aws:sns:us-east-1:111122223333:team-inventory-pager' }));
    const run = render([file('pager.yaml', pager)]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("spec.alarms.snsTopicArn: topic 'team-inventory-pager' is not one of this tenant's (its name must start with 'team-sales-')");
  });
});
