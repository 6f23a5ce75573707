// Audit trail (access logs, inventory) only where the platform has the buckets; request metrics only
// with metrics or alarms; alarms and CloudTrail change alerts to the right topic.
import { describe, expect, it } from '@jest/globals';
import { CIS_BUCKET_POLICY_CHANGE_EVENTS } from '../../functions/secure-bucket/src/core/alarms.js';
import { environmentConfig, exampleClaim, withSpec, type Json } from '../lib/function-fixtures.js';
import { fp, kindsOf, render, renderOk } from './protection-fixtures.js';

const scratch = exampleClaim('scratch');
const sales = exampleClaim('sales-events');
const archive = exampleClaim('audit-archive');
const PLATFORM_TOPIC = 'arn:aws:sns:us-east-1:111122223333:platform-s3-alerts';

const withoutAudit = environmentConfig((d) => delete d['audit']);
const withoutTopic = environmentConfig((d) => delete d['alarms']);

describe('audit trail', () => {
  it('access logs go to the platform log bucket under <bucket>/, partitioned by event time', async () => {
    const r = await renderOk(scratch);
    const bucket = (r['bucket']!['metadata'] as Json)['annotations'] as Json;
    const name = String(bucket['crossplane.io/external-name']);
    expect(fp(r, 'bucket-logging')).toEqual({
      region: 'us-east-1',
      bucket: name,
      targetBucket: 'acme-stg-s3-access-logs',
      targetPrefix: `${name}/`,
      targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: 'EventTime' } },
    });
  });

  it('a weekly, encrypted inventory with encryption, replication and object-lock fields', async () => {
    const inv = fp(await renderOk(archive), 'bucket-inventory');
    expect(inv).toMatchObject({ schedule: { frequency: 'Weekly' }, enabled: true, includedObjectVersions: 'All' });
    expect(inv['destination']).toEqual({
      bucket: { bucketArn: 'arn:aws:s3:::acme-stg-s3-inventory', accountId: '111122223333', format: 'Parquet', prefix: 'team-inventory', encryption: { sseS3: {} } },
    });
    expect(inv['optionalFields']).toEqual(expect.arrayContaining(['EncryptionStatus', 'ReplicationStatus', 'ObjectLockRetainUntilDate', 'ObjectLockMode', 'ObjectLockLegalHoldStatus']));
    expect(fp(await renderOk(scratch), 'bucket-inventory')['includedObjectVersions']).toBe('Current');
  });

  it('neither is rendered when the platform has no audit buckets', async () => {
    const kinds = kindsOf(await renderOk(archive, withoutAudit));
    expect(kinds).not.toContain('BucketLogging');
    expect(kinds).not.toContain('BucketInventory');
  });

  it('a fixed name equal to the platform log bucket is refused', async () => {
    const env = environmentConfig((d) => ((d['audit'] as Json)['logBucket'] = 'acme-stg-team-inventory-logs'));
    const out = await render(withSpec(scratch, (s) => (s['naming'] = { strategy: 'Fixed', name: 'acme-stg-team-inventory-logs' })), env);
    expect(out.fatal).toMatch(/^spec\.naming\.name: 'acme-stg-team-inventory-logs' is the platform's audit bucket/);
  });
});

describe('request metrics and alarms', () => {
  it('scratch (no metrics, no alarms): no BucketMetric and no MetricAlarm', async () => {
    const kinds = kindsOf(await renderOk(scratch));
    expect(kinds).not.toContain('BucketMetric');
    expect(kinds).not.toContain('MetricAlarm');
  });

  it('audit-archive (metrics only): the whole-bucket request-metrics filter, no alarms', async () => {
    const r = await renderOk(archive);
    expect(fp(r, 'bucket-request-metrics')).toEqual({ region: 'us-east-1', bucket: 'acme-stg-team-inventory-audit-archive', name: 'EntireBucket' });
    expect(kindsOf(r)).not.toContain('MetricAlarm');
  });

  it('sales-events (alarms by email): deletes, 4xx and 5xx alarms on the request metrics, to the platform topic, address tagged', async () => {
    const r = await renderOk(sales);
    expect(r['bucket-request-metrics']).toBeDefined();
    const alarms = Object.entries(r).filter(([, v]) => v['kind'] === 'MetricAlarm');
    expect(alarms.map(([, v]) => forProviderOf(v)['metricName']).sort()).toEqual(['4xxErrors', '5xxErrors', 'DeleteRequests']);
    for (const [, alarm] of alarms) {
      const a = forProviderOf(alarm);
      expect(a).toMatchObject({ namespace: 'AWS/S3', statistic: 'Sum', alarmActions: [PLATFORM_TOPIC], actionsEnabled: true, treatMissingData: 'notBreaching' });
      expect(a['dimensions']).toMatchObject({ FilterId: 'EntireBucket' });
      expect((a['tags'] as Json)['platform.example.org/alarm-email']).toBe('sales-oncall@example.com');
    }
    // sales-api may delete: only a burst of deletes alarms.
    expect(fp(r, 'alarm-delete-requests')['threshold']).toBe(100);
  });

  it('any delete alarms where no consumer may delete', async () => {
    const r = await renderOk(withSpec(archive, (s) => (s['alarms'] = { email: 'audit@example.com' })));
    expect(fp(r, 'alarm-delete-requests')['threshold']).toBe(1);
  });

  it('a claim topic of this account and region is used; another account’s is refused', async () => {
    const own = 'arn:aws:sns:us-east-1:111122223333:team-sales-alerts';
    const r = await renderOk(withSpec(sales, (s) => (s['alarms'] = { snsTopicArn: own })));
    expect(fp(r, 'alarm-5xx-errors')['alarmActions']).toEqual([own]);
    expect(fp(r, 'bucket-change-alerts-target')['arn']).toBe(own);
    const foreign = await render(withSpec(sales, (s) => (s['alarms'] = { snsTopicArn: 'arn:aws:sns:us-east-1:999988887777:exfil' })));
    expect(foreign.fatal).toMatch(/^spec\.alarms\.snsTopicArn: .*not in this account \(111122223333\) and region/);
  });

  it('alarms by email without a platform topic are refused with the fix', async () => {
    const out = await render(sales, withoutTopic);
    expect(out.fatal).toMatch(/^spec\.alarms: asks for alarms, but the platform has no alarm topic.*Fix: set spec\.alarms\.snsTopicArn/);
  });
});

describe('change alerts from CloudTrail', () => {
  it('an EventBridge rule on this bucket’s protection changes (the CIS list and more), targeting the topic', async () => {
    const r = await renderOk(scratch);
    const name = String(((r['bucket']!['metadata'] as Json)['annotations'] as Json)['crossplane.io/external-name']);
    const pattern = JSON.parse(String(fp(r, 'bucket-change-alerts')['eventPattern'])) as Json;
    const detail = pattern['detail'] as Json;
    expect(pattern['detail-type']).toEqual(['AWS API Call via CloudTrail']);
    expect(detail['requestParameters']).toEqual({ bucketName: [name] });
    expect(detail['eventName']).toEqual(
      expect.arrayContaining([...CIS_BUCKET_POLICY_CHANGE_EVENTS, 'PutBucketEncryption', 'DeleteBucketEncryption', 'PutObjectLockConfiguration', 'PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock', 'PutBucketVersioning']),
    );
    const ruleName = ((r['bucket-change-alerts']!['metadata'] as Json)['annotations'] as Json)['crossplane.io/external-name'] as string;
    expect(ruleName.length).toBeLessThanOrEqual(64);
    expect(fp(r, 'bucket-change-alerts-target')).toMatchObject({ rule: ruleName, arn: PLATFORM_TOPIC });
  });

  it('no topic anywhere: no rule (and nothing else refers to one)', async () => {
    const kinds = kindsOf(await renderOk(scratch, withoutTopic));
    expect(kinds).not.toContain('Rule');
    expect(kinds).not.toContain('Target');
  });
});

function forProviderOf(r: Json): Json {
  return ((r['spec'] as Json)['forProvider'] ?? {}) as Json;
}
