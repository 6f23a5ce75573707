// Audit trail (access logs, inventory) only where the platform has the buckets; request metrics only
// with metrics or alarms; alarms and CloudTrail change alerts to the right topic.
import { describe, expect, it } from '@jest/globals';
import { CIS_BUCKET_POLICY_CHANGE_EVENTS, composeSecureBucket, EMAIL_SUBSCRIPTION } from '../../functions/secure-bucket/src/core/index.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { renderClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { environmentConfig, exampleClaim, inProcessClient, withSpec, type Json } from '../lib/function-fixtures.js';
import { getSchemaRegistry } from '../lib/schema-validator.js';
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
      bucket: {
        bucketArn: 'arn:aws:s3:::acme-stg-s3-inventory',
        accountId: '111122223333',
        format: 'Parquet',
        prefix: 'team-inventory',
        encryption: { sseS3: {} },
      },
    });
    expect(inv['optionalFields']).toEqual(
      expect.arrayContaining(['EncryptionStatus', 'ReplicationStatus', 'ObjectLockRetainUntilDate', 'ObjectLockMode', 'ObjectLockLegalHoldStatus']),
    );
    expect(fp(await renderOk(scratch), 'bucket-inventory')['includedObjectVersions']).toBe('Current');
  });

  it('neither is rendered when the platform has no audit buckets', async () => {
    const kinds = kindsOf(await renderOk(archive, withoutAudit));
    expect(kinds).not.toContain('BucketLogging');
    expect(kinds).not.toContain('BucketInventory');
  });

  it('a fixed name equal to the platform log bucket is refused', async () => {
    const env = environmentConfig((d) => ((d['audit'] as Json)['logBucket'] = 'acme-stg-team-inventory-logs'));
    const out = await render(
      withSpec(scratch, (s) => (s['naming'] = { strategy: 'Fixed', name: 'acme-stg-team-inventory-logs' })),
      env,
    );
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

  it('sales-events (alarms by email): deletes, 4xx and 5xx alarms on the request metrics, to the platform topic', async () => {
    const r = await renderOk(sales);
    expect(r['bucket-request-metrics']).toBeDefined();
    const alarms = Object.entries(r).filter(([, v]) => v['kind'] === 'MetricAlarm');
    expect(alarms.map(([, v]) => forProviderOf(v)['metricName']).sort()).toEqual(['4xxErrors', '5xxErrors', 'DeleteRequests']);
    for (const [, alarm] of alarms) {
      const a = forProviderOf(alarm);
      expect(a).toMatchObject({
        namespace: 'AWS/S3',
        statistic: 'Sum',
        alarmActions: [PLATFORM_TOPIC],
        actionsEnabled: true,
        treatMissingData: 'notBreaching',
      });
      expect(a['dimensions']).toMatchObject({ FilterId: 'EntireBucket' });
      expect(a['tags'] as Json).not.toHaveProperty('platform.example.org/alarm-email');
    }
    // sales-api may delete: only a burst alarms, counted in requests (one DeleteObjects removes up to 1,000 keys).
    expect(fp(r, 'alarm-delete-requests')['threshold']).toBe(20);
    expect(fp(r, 'alarm-delete-requests')['alarmDescription']).toMatch(/one DeleteObjects request removes up to 1,000 objects/);
  });

  it('any delete alarms where no consumer may delete', async () => {
    const r = await renderOk(withSpec(archive, (s) => (s['alarms'] = { email: 'audit@example.com' })));
    expect(fp(r, 'alarm-delete-requests')['threshold']).toBe(1);
  });

  it('a claim topic of this account and region is used; another account’s is refused', async () => {
    const own = 'arn:aws:sns:us-east-1:111122223333:team-sales-alerts';
    const r = await renderOk(withSpec(sales, (s) => (s['alarms'] = { snsTopicArn: own })));
    expect(fp(r, 'alarm-5xx-errors')['alarmActions']).toEqual([own]);
    // Change alerts stay on the platform topic; the claim's is an extra target (issue 19 finding 5).
    expect(fp(r, 'bucket-change-alerts-target')['arn']).toBe('arn:aws:sns:us-east-1:111122223333:platform-s3-alerts');
    expect(fp(r, 'bucket-change-alerts-tenant-topic-target')['arn']).toBe(own);
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
      expect.arrayContaining([
        ...CIS_BUCKET_POLICY_CHANGE_EVENTS,
        'PutBucketEncryption',
        'DeleteBucketEncryption',
        'PutObjectLockConfiguration',
        'PutBucketPublicAccessBlock',
        'DeleteBucketPublicAccessBlock',
        'PutBucketVersioning',
      ]),
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

/**
 * SNS subscription filter policies, as SNS evaluates them on a JSON message body (exact strings,
 * nested keys, a top-level `$or`): enough to prove which messages reach the address.
 */
function filterMatches(policy: Json, message: Json): boolean {
  if (Array.isArray(policy['$or'])) return (policy['$or'] as Json[]).some((branch) => filterMatches(branch, message));
  return Object.entries(policy).every(([key, want]) => {
    const got = message[key];
    if (Array.isArray(want)) return typeof got === 'string' && (want as unknown[]).includes(got);
    return typeof got === 'object' && got !== null && filterMatches(want as Json, got as Json);
  });
}

describe('alerts that cannot be silenced quietly', () => {
  it('the bucket rule also watches the configurations that feed the alarms and the audit (metrics, inventory, notification, tags)', async () => {
    const r = await renderOk(sales);
    const detail = (JSON.parse(String(fp(r, 'bucket-change-alerts')['eventPattern'])) as Json)['detail'] as Json;
    expect(detail['eventName']).toEqual(
      expect.arrayContaining([
        'DeleteBucketMetricsConfiguration',
        'PutBucketMetricsConfiguration',
        'DeleteBucketInventoryConfiguration',
        'PutBucketNotification',
        'DeleteBucketTagging',
      ]),
    );
    // And what changes who reaches the data or where its listings go (the second red team's list).
    expect(detail['eventName']).toEqual(
      expect.arrayContaining([
        'PutBucketIntelligentTieringConfiguration',
        'PutBucketAnalyticsConfiguration',
        'PutBucketRequestPayment',
        'PutBucketWebsite',
        'CreateBucketMetadataTableConfiguration',
      ]),
    );
  });

  it("the access points' policies and the key's state and policy each have a rule to the same topic", async () => {
    const r = await renderOk(sales);
    const ap = JSON.parse(String(fp(r, 'access-point-change-alerts')['eventPattern'])) as Json;
    const apNames = Object.values(r)
      .filter((v) => v['kind'] === 'AccessPoint')
      .map((v) => String(((v['spec'] as Json)['forProvider'] as Json)['name']));
    expect(apNames.length).toBeGreaterThan(0);
    expect((ap['detail'] as Json)['eventName']).toEqual(expect.arrayContaining(['PutAccessPointPolicy', 'DeleteAccessPointPolicy']));
    const branches = (ap['detail'] as Json)['$or'] as Json[];
    expect(((branches[0]!['requestParameters'] as Json)['name'] as string[]).sort()).toEqual(apNames.sort());
    const key = JSON.parse(String(fp(r, 'key-change-alerts')['eventPattern'])) as Json;
    const keyArn = String(((r['kms-key']!['metadata'] as Json)['annotations'] as Json)['crossplane.io/external-name']);
    expect(key['source']).toEqual(['aws.kms']);
    expect((key['detail'] as Json)['eventName']).toEqual(expect.arrayContaining(['DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy']));
    expect(JSON.stringify((key['detail'] as Json)['resources'])).toContain(keyArn);
    for (const rule of ['access-point-change-alerts', 'key-change-alerts']) expect(fp(r, `${rule}-target`)['arn']).toBe(PLATFORM_TOPIC);
  });

  it('no access points, no access-point rule', async () => {
    expect(Object.keys(await renderOk(scratch))).not.toContain('access-point-change-alerts');
  });
});

describe('alarm e-mail subscription', () => {
  const renderSales = () => renderClaim(inProcessClient, sales, { clusterObjects: [environmentConfig()], converge: true, maxPasses: 8 });

  it('subscribes the address to the topic the alarms use, validates upstream, and is deleted with the claim', async () => {
    const r = await renderOk(sales);
    const sub = r[EMAIL_SUBSCRIPTION]!;
    expect(sub['kind']).toBe('TopicSubscription');
    expect(fp(r, EMAIL_SUBSCRIPTION)).toMatchObject({
      protocol: 'email',
      endpoint: 'sales-oncall@example.com',
      topicArn: PLATFORM_TOPIC,
      region: 'us-east-1',
      filterPolicyScope: 'MessageBody',
    });
    expect(fp(r, 'alarm-delete-requests')['alarmActions']).toEqual([fp(r, EMAIL_SUBSCRIPTION)['topicArn']]);
    expect(fp(r, 'bucket-change-alerts-target')['arn']).toBe(fp(r, EMAIL_SUBSCRIPTION)['topicArn']);
    expect((sub['spec'] as Json)['deletionPolicy']).toBe('Delete');
    expect(getSchemaRegistry().validate(sub).errors).toEqual([]);
  });

  it('no subscription without an address (a claim topic or the platform topic alone)', async () => {
    expect(kindsOf(await renderOk(archive))).not.toContain('TopicSubscription');
    const own = withSpec(sales, (s) => (s['alarms'] = { snsTopicArn: 'arn:aws:sns:us-east-1:111122223333:team-sales-alerts' }));
    expect(kindsOf(await renderOk(own))).not.toContain('TopicSubscription');
  });

  it("the address gets this bucket's alarms and change alerts only, not those of a bucket whose name extends it", async () => {
    const r = await renderOk(sales);
    const policy = JSON.parse(String(fp(r, EMAIL_SUBSCRIPTION)['filterPolicy'])) as Json;
    const bucket = String(fp(r, 'bucket-request-metrics')['bucket']);
    const alarmNames = Object.values(r)
      .filter((v) => v['kind'] === 'MetricAlarm')
      .map((v) => String(((v['metadata'] as Json)['annotations'] as Json)['crossplane.io/external-name']));
    expect(alarmNames).toHaveLength(3);
    const alarmMessage = (name: string): Json => ({ AlarmName: name, NewStateValue: 'ALARM', Trigger: { Namespace: 'AWS/S3' } });
    const changeEvent = (b: string): Json => ({ source: 'aws.s3', detail: { eventName: 'PutBucketPolicy', requestParameters: { bucketName: b } } });
    for (const name of alarmNames) expect(filterMatches(policy, alarmMessage(name))).toBe(true);
    expect(filterMatches(policy, changeEvent(bucket))).toBe(true);
    // Another tenant's messages on the same platform topic.
    const other = `${bucket}-x`;
    for (const name of alarmNames) expect(filterMatches(policy, alarmMessage(name.replace(bucket, other)))).toBe(false);
    expect(filterMatches(policy, changeEvent(other))).toBe(false);
    expect(filterMatches(policy, changeEvent('acme-stg-team-inventory-audit-archive'))).toBe(false);
  });

  it('a pending confirmation is in the status and a Normal result; a confirmed one is quiet', async () => {
    const pending = await renderSales();
    expect(pending.status['alarmEmailSubscription']).toBe('PendingConfirmation');
    expect(pending.results).toContainEqual(
      expect.objectContaining({
        severity: 'Normal',
        message: expect.stringMatching(/sales-oncall@example\.com is PendingConfirmation: no alert arrives until its owner confirms/),
      }),
    );
    // The owner clicked the link: the provider reports pendingConfirmation false.
    const subscription = { resource: { status: { atProvider: { arn: `${PLATFORM_TOPIC}:1`, pendingConfirmation: false } } } };
    const confirmed = composeSecureBucket({
      composite: compositeForClaim(sales),
      environmentData: environmentConfig()['data'],
      observed: { [EMAIL_SUBSCRIPTION]: subscription },
    });
    expect(confirmed.status.alarmEmailSubscription).toBe('Confirmed');
    expect(confirmed.notes.filter((n) => /subscription/.test(n))).toEqual([]);
  });
});
