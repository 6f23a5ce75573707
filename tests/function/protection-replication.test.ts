// Replication: only with spec.replication; a replica hardened like the source with its own key in
// its region; a role with exactly the replication actions, which the bucket policy lets in from
// outside the VPC endpoint without opening anything else.
import { describe, expect, it } from '@jest/globals';
import { REPLICATION_ACTIONS } from '../../functions/secure-bucket/src/core/index.js';
import { desiredResources, renderPasses, exampleClaim, withSpec, type Json } from '../lib/function-fixtures.js';
import { allowAll, evaluateKms, evaluateS3, paths, policySetFor, type Caller, type PolicyJson } from '../lib/simulate.js';
import { fp, kindsOf, list, render, renderOk, statementsOf } from './protection-fixtures.js';

const archive = exampleClaim('audit-archive');
const SOURCE = 'acme-stg-team-inventory-audit-archive';
const SOURCE_ARN = `arn:aws:s3:::${SOURCE}`;

function withoutBucket(forProvider: Json): Json {
  const { bucket: _b, region: _r, ...rest } = forProvider;
  return rest;
}

describe('rendered only when the claim names a destination', () => {
  it.each(['scratch', 'sales-events'])('%s: nothing replica-related', async (name) => {
    const r = await renderOk(exampleClaim(name));
    expect(Object.keys(r).filter((k) => k.startsWith('replica') || k.startsWith('replication') || k === 'bucket-replication')).toEqual([]);
    expect(kindsOf(r)).not.toContain('BucketReplicationConfiguration');
    const policy = statementsOf(fp(r, 'bucket-policy')['policy']);
    expect(JSON.stringify(policy)).not.toMatch(/replication/);
  });

  it('destination region equal to the bucket’s is refused', async () => {
    const out = await render(withSpec(archive, (s) => (s['replication'] = { destinationRegion: 'us-east-1' })));
    expect(out.fatal).toMatch(/^spec\.replication\.destinationRegion: is the bucket's own region/);
  });
});

describe('audit-archive: the replica', () => {
  it('lives in eu-west-1 under a name derived from the source (≤ 63 characters)', async () => {
    const r = await renderOk(archive);
    const name = ((r['replica-bucket']!['metadata'] as Json)['annotations'] as Json)['crossplane.io/external-name'] as string;
    expect(name).toMatch(new RegExp(`^${SOURCE}-eu-west-1-[0-9a-f]{8}$`));
    expect(name.length).toBeLessThanOrEqual(63);
    for (const key of Object.keys(r)) if (key.startsWith('replica-')) expect([key, fp(r, key)['region']]).toEqual([key, 'eu-west-1']);
    expect(fp(r, 'replica-bucket')).toMatchObject({ forceDestroy: false, objectLockEnabled: true });
    expect((r['replica-bucket']!['spec'] as Json)['deletionPolicy']).toBe('Orphan');
  });

  it('has the same public-access block and ownership controls as the source', async () => {
    const r = await renderOk(archive);
    expect(withoutBucket(fp(r, 'replica-public-access-block'))).toEqual(withoutBucket(fp(r, 'bucket-public-access-block')));
    expect(withoutBucket(fp(r, 'replica-ownership-controls'))).toEqual(withoutBucket(fp(r, 'bucket-ownership-controls')));
  });

  it('is encrypted with its own rotating key (not the source’s), versioned, locked like the source, TLS-only', async () => {
    const r = await renderOk(archive);
    expect(fp(r, 'replica-kms-key')).toMatchObject({ region: 'eu-west-1', enableKeyRotation: true });
    const sse = (fp(r, 'replica-encryption')['rule'] as Json[])[0]!;
    expect(sse).toMatchObject({
      bucketKeyEnabled: true,
      applyServerSideEncryptionByDefault: {
        sseAlgorithm: 'aws:kms',
        kmsMasterKeyIdSelector: { matchLabels: { 'platform.example.org/component': 'replica-kms-key' } },
      },
    });
    expect(fp(r, 'replica-versioning')['versioningConfiguration']).toEqual({ status: 'Enabled' });
    expect(fp(r, 'replica-object-lock')['rule']).toEqual(fp(r, 'bucket-object-lock')['rule']);
    // The same builder as the source: every deny the source has, only no access-point delegation
    // (nobody but S3 writes the replica).
    const sids = statementsOf(fp(r, 'replica-bucket-policy')['policy']).map((s) => s.Sid);
    const sourceSids = statementsOf(fp(r, 'bucket-policy')['policy']).map((s) => s.Sid);
    // (nor the provider's endpoint-only listing: the cluster's gateway endpoint does not reach eu-west-1).
    expect(sids).toEqual(sourceSids.filter((sid) => sid !== 'DelegateToAccessPointsOfThisAccount' && sid !== 'DenyProviderListingOutsideVpcEndpoint'));
    const tls = statementsOf(fp(r, 'replica-bucket-policy')['policy']).find((s) => s.Sid === 'DenyOutdatedTls');
    expect(tls?.Condition).toEqual({ NumericLessThan: { 's3:TlsVersion': '1.3' } });
    // Its lifecycle expires what the source's expires, current and noncurrent versions.
    expect(fp(r, 'replica-lifecycle')['rule']).toEqual(fp(r, 'bucket-lifecycle')['rule']);
    expect(fp(r, 'replica-logging')).toMatchObject({ region: 'eu-west-1', targetBucket: 'acme-stg-s3-access-logs-eu-west-1' });
  });

  it('its key lets only the replication role encrypt, via S3 in eu-west-1; break-glass may decrypt', async () => {
    const r = await renderOk(archive);
    const role = fp(r, 'replication-role');
    const roleArn = `arn:aws:iam::111122223333:role${String(role['path'])}${String(((r['replication-role']!['metadata'] as Json)['annotations'] as Json)['crossplane.io/external-name'])}`;
    const key = statementsOf(fp(r, 'replica-kms-key')['policy']);
    const encrypt = key.find((s) => s.Sid === 'EncryptViaS3');
    expect(encrypt).toMatchObject({
      Action: 'kms:Encrypt',
      Condition: { ArnEquals: { 'aws:PrincipalArn': roleArn }, StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
    });
    const usage = key.filter((s) => list(s.Action).some((a) => ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'].includes(a)));
    expect(usage.map((s) => s.Sid).sort()).toEqual(['DecryptViaS3', 'EncryptViaS3']);
    expect(key.find((s) => s.Sid === 'DecryptViaS3')?.Condition?.['ArnEquals']?.['aws:PrincipalArn']).toBe(
      'arn:aws:iam::111122223333:role/platform-break-glass',
    );
    // The same administration as the source key, from the same builder: no unconditioned root.
    const sourceKey = statementsOf(fp(r, 'kms-key')['policy']);
    for (const sid of ['KeyAdministrators', 'ProviderManagesKey']) expect(key.find((s) => s.Sid === sid)).toEqual(sourceKey.find((s) => s.Sid === sid));
    for (const st of key) expect([st.Sid, st.Condition]).toEqual([st.Sid, expect.anything()]);
  });
});

describe('audit-archive: the replication role and configuration', () => {
  it('only S3 may assume the role, only for this source bucket of this account', async () => {
    const trust = statementsOf(fp(await renderOk(archive), 'replication-role')['assumeRolePolicy']);
    expect(trust).toEqual([
      {
        Sid: 'S3ReplicatesThisBucket',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { ArnEquals: { 'aws:SourceArn': SOURCE_ARN }, StringEquals: { 'aws:SourceAccount': '111122223333' } },
      },
    ]);
  });

  it('the role may do exactly the replication actions, each on its own resource', async () => {
    const r = await renderOk(archive);
    const inline = (fp(r, 'replication-role')['inlinePolicy'] as Array<{ policy: string }>)[0]!;
    const byResource = new Map<string, string[]>();
    for (const s of statementsOf(inline.policy)) {
      expect(s.Effect).toBe('Allow');
      for (const res of list(s.Resource)) byResource.set(res, [...(byResource.get(res) ?? []), ...list(s.Action)].sort());
    }
    const replicaArn = `arn:aws:s3:::${String(((r['replica-bucket']!['metadata'] as Json)['annotations'] as Json)['crossplane.io/external-name'])}`;
    expect(byResource.get(SOURCE_ARN)).toEqual([...REPLICATION_ACTIONS.sourceBucket].sort());
    expect(byResource.get(`${SOURCE_ARN}/*`)).toEqual([...REPLICATION_ACTIONS.sourceObjects, ...REPLICATION_ACTIONS.sourceObjectLock].sort());
    expect(byResource.get(`${replicaArn}/*`)).toEqual([...REPLICATION_ACTIONS.destinationObjects, ...REPLICATION_ACTIONS.destinationOwnerOverride].sort());
    const kms = statementsOf(inline.policy).filter((s) => list(s.Action).some((a) => a.startsWith('kms:')));
    expect(kms.map((s) => [s.Action, s.Condition?.['StringEquals']?.['kms:ViaService']])).toEqual([
      ['kms:Decrypt', 's3.us-east-1.amazonaws.com'],
      ['kms:Encrypt', 's3.eu-west-1.amazonaws.com'],
    ]);
    for (const s of kms) expect(Object.keys(s.Condition?.['StringLike'] ?? {})).toEqual(['kms:EncryptionContext:aws:s3:arn']);
    expect(byResource.size).toBe(5);
  });

  it('configuration waits for both keys, then replicates KMS objects, no replica modifications, no delete markers', async () => {
    const first = desiredResources((await renderPasses(archive)).first);
    expect(first['replication-role']).toBeDefined();
    expect(first['bucket-replication']).toBeUndefined();
    const r = await renderOk(archive);
    const cfg = fp(r, 'bucket-replication');
    const rule = (cfg['rule'] as Json[])[0]!;
    expect(rule).toMatchObject({
      status: 'Enabled',
      deleteMarkerReplication: { status: 'Disabled' },
      sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' }, replicaModifications: { status: 'Disabled' } },
    });
    expect(cfg['role']).toMatch(/^arn:aws:iam::111122223333:role\/secure-bucket\/staging-team-inventory-audit-archive-replication-/);
    expect(((rule['destination'] as Json)['encryptionConfiguration'] as Json)['replicaKmsKeyId']).toMatch(/^arn:aws:kms:eu-west-1:111122223333:key\//);
    expect((rule['destination'] as Json)['bucket']).toMatch(/^arn:aws:s3:::acme-stg-team-inventory-audit-archive-eu-west-1-/);
  });
});

describe('the replication role gets past the VPC-endpoint deny, and nothing else does (simulated)', () => {
  const set = policySetFor(archive);
  async function replicationCaller(): Promise<Caller> {
    const r = await renderOk(archive);
    const role = fp(r, 'replication-role');
    const name = String(((r['replication-role']!['metadata'] as Json)['annotations'] as Json)['crossplane.io/external-name']);
    const policyJson = JSON.parse((role['inlinePolicy'] as Array<{ policy: string }>)[0]!.policy) as PolicyJson;
    return {
      id: 'replication',
      arn: `arn:aws:iam::111122223333:role${String(role['path'])}${name}`,
      identityPolicies: [{ name: 'replication', policy: policyJson }],
    };
  }
  const object = { kind: 'object', key: 'audit/2026/01/01.json' } as const;

  it('from S3’s side (no endpoint): the replication reads are allowed', async () => {
    const caller = await replicationCaller();
    for (const action of ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging', 's3:GetObjectRetention']) {
      expect([action, (await evaluateS3(set, { caller, action, target: object, path: paths.internet('1.3') })).allowed]).toEqual([action, true]);
    }
    expect((await evaluateS3(set, { caller, action: 's3:GetReplicationConfiguration', target: { kind: 'bucket' }, path: paths.internet('1.3') })).allowed).toBe(
      true,
    );
  });

  it('the same role cannot read, write, delete, or re-policy', async () => {
    const caller = await replicationCaller();
    for (const [action, target] of [
      ['s3:GetObject', object],
      ['s3:PutObject', object],
      ['s3:DeleteObjectVersion', object],
      ['s3:BypassGovernanceRetention', object],
      ['s3:PutBucketPolicy', { kind: 'bucket' }],
      ['s3:PutBucketObjectLockConfiguration', { kind: 'bucket' }],
    ] as const) {
      const d = await evaluateS3(set, { caller, action, target, path: paths.internet('1.3') });
      expect([action, d.allowed]).toEqual([action, false]);
    }
  });

  it('TLS still applies to it; and other principals (a consumer, an over-granted role) are still held to the endpoint', async () => {
    const caller = await replicationCaller();
    expect((await evaluateS3(set, { caller, action: 's3:GetObjectVersionForReplication', target: object, path: paths.internet('1.2') })).decidedBy).toBe(
      'bucket:DenyOutdatedTls',
    );
    const consumer = set.consumers[0]!;
    const writer: Caller = { id: consumer.name, arn: consumer.roleArn, identityPolicies: [{ name: 'access', policy: consumer.accessPolicy }] };
    expect((await evaluateS3(set, { caller: writer, action: 's3:PutObject', target: object, path: paths.internet('1.3') })).decidedBy).toBe(
      'bucket:DenyOutsideVpcEndpoint',
    );
    const greedy: Caller = { id: 'greedy', arn: 'arn:aws:iam::111122223333:role/replication-lookalike', identityPolicies: [allowAll('greedy', ['s3:*'])] };
    expect((await evaluateS3(set, { caller: greedy, action: 's3:GetObjectVersionForReplication', target: object, path: paths.internet('1.3') })).allowed).toBe(
      false,
    );
  });

  it('the source key lets the replication role decrypt via S3 in the source region; the encrypt-only replica key does not', async () => {
    const caller = await replicationCaller();
    // The simulator drops templated keys such as kms:EncryptionContext:aws:s3:arn (a StringLike on a
    // dropped key never matches), so this judges the key policy with the role's context condition
    // lifted; the condition itself is asserted in 'exactly the replication actions' above.
    const withoutContext = structuredClone(caller.identityPolicies[0]!.policy);
    for (const st of withoutContext.Statement) delete (st['Condition'] as Json | undefined)?.['StringLike'];
    const lifted: Caller = { ...caller, identityPolicies: [{ name: 'replication', policy: withoutContext }] };
    expect(await evaluateKms(set, lifted, 'kms:Decrypt', 's3.us-east-1.amazonaws.com')).toMatchObject({ allowed: true, decidedBy: 'key:DecryptViaS3' });
    expect(await evaluateKms(set, lifted, 'kms:Decrypt', 's3.eu-west-1.amazonaws.com')).toMatchObject({ allowed: false });
    expect(await evaluateKms(set, lifted, 'kms:Decrypt')).toMatchObject({ allowed: false });
    expect(await evaluateKms(set, lifted, 'kms:GenerateDataKey', 's3.us-east-1.amazonaws.com')).toMatchObject({ allowed: false });
  });
});

describe('every policy document this module renders names real actions and condition keys', () => {
  it.each(['replication-role', 'replica-kms-key', 'replica-bucket-policy', 'bucket-policy'])('%s', async (name) => {
    const { lintPolicy } = await import('../../functions/secure-bucket/cli/explain/lint.js');
    const r = await renderOk(withSpec(archive, (s) => (s['objectLock'] = { mode: 'Governance', days: 30, governanceBypassConsumers: ['audit-writer'] })));
    const f = fp(r, name);
    const docs: Array<[string, unknown]> =
      name === 'replication-role'
        ? [
            ['trust', f['assumeRolePolicy']],
            ['inline', (f['inlinePolicy'] as Array<{ policy: string }>)[0]!.policy],
          ]
        : [[name, f['policy']]];
    const findings = [];
    for (const [label, doc] of docs) findings.push(...(await lintPolicy(label, JSON.parse(String(doc)) as PolicyJson)));
    expect(findings).toEqual([]);
  });
});
