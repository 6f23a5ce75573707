// Metrics and alarms: S3 request metrics only when the claim wants metrics or alarms (they are
// billed per metric), CloudWatch alarms on deletions and errors, and alerts on every change to the
// bucket's protection (policy, ACL, lifecycle, encryption, lock, public access) from CloudTrail.
import type { RenderContext } from './context.js';
import { boundedName } from './naming.js';
import { canonicalJson } from './policy.js';
import { managed } from './resources.js';
import { ClaimError, type ManagedResource } from './types.js';

export const REQUEST_METRICS = 'bucket-request-metrics';
/** The request-metrics filter id; CloudWatch shows it as the FilterId dimension. */
export const METRICS_FILTER_ID = 'EntireBucket';
export const CHANGE_RULE = 'bucket-change-alerts';
export const CHANGE_TARGET = 'bucket-change-alerts-target';
export const EMAIL_SUBSCRIPTION = 'alarm-email-subscription';

/**
 * CloudTrail event names of calls that change how the bucket is protected. Covers the CIS
 * "S3 bucket policy changes" list (CloudWatch.8 / CIS 4.8) and adds encryption, lock, public access,
 * ownership, versioning and logging. CloudTrail records PutBucketLifecycleConfiguration as PutBucketLifecycle.
 */
export const CIS_BUCKET_POLICY_CHANGE_EVENTS = [
  'PutBucketAcl',
  'PutBucketPolicy',
  'PutBucketCors',
  'PutBucketLifecycle',
  'PutBucketReplication',
  'DeleteBucketPolicy',
  'DeleteBucketCors',
  'DeleteBucketLifecycle',
  'DeleteBucketReplication',
];
export const CHANGE_EVENTS = [
  ...CIS_BUCKET_POLICY_CHANGE_EVENTS,
  'PutBucketEncryption',
  'DeleteBucketEncryption',
  'PutObjectLockConfiguration',
  'PutBucketPublicAccessBlock',
  'DeleteBucketPublicAccessBlock',
  'PutBucketOwnershipControls',
  'DeleteBucketOwnershipControls',
  'PutBucketVersioning',
  'PutBucketLogging',
  'DeleteBucket',
];

interface AlarmSpec {
  key: string;
  metricName: string;
  threshold: number;
  description: string;
}

/** SNS topic for alarms and alerts: the claim's (same account and region only), else the platform's. */
export function alertTopicArn(ctx: RenderContext): string | undefined {
  const claimed = ctx.spec.alarms?.snsTopicArn;
  if (claimed !== undefined) {
    const [, , , region, account] = claimed.split(':');
    if (account !== ctx.env.accountId || region !== ctx.spec.region) {
      // Bucket names, deleters and policy changes must not be published to somebody else's topic.
      throw new ClaimError(
        'spec.alarms.snsTopicArn',
        `'${claimed}' is not in this account (${ctx.env.accountId}) and region (${ctx.spec.region})`,
        `name a topic of account ${ctx.env.accountId} in ${ctx.spec.region}, or use spec.alarms.email`,
      );
    }
    return claimed;
  }
  return ctx.env.alarms.snsTopicArn;
}

export function requestMetricsEnabled(ctx: RenderContext): boolean {
  return ctx.spec.metrics || ctx.spec.alarms !== undefined;
}

/** A delete on a bucket nobody may delete from is an incident; where consumers delete, only a burst is. */
export function deleteRequestsThreshold(ctx: RenderContext): number {
  const anyoneDeletes = ctx.consumers.some((c) => c.access === 'ReadWrite') || (ctx.spec.objectLock?.governanceBypassConsumers.length ?? 0) > 0;
  return anyoneDeletes ? 100 : 1;
}

function alarmSpecs(ctx: RenderContext): AlarmSpec[] {
  return [
    { key: 'delete-requests', metricName: 'DeleteRequests', threshold: deleteRequestsThreshold(ctx), description: 'objects deleted' },
    { key: '4xx-errors', metricName: '4xxErrors', threshold: 50, description: 'client errors (access denied, missing keys): a broken client or probing' },
    { key: '5xx-errors', metricName: '5xxErrors', threshold: 10, description: 'server errors' },
  ];
}

export function changeRuleName(bucketName: string): string {
  return boundedName(`${bucketName}-changes`, 64, bucketName, 'changes');
}

export function changeEventPattern(bucketName: string): string {
  return canonicalJson({
    source: ['aws.s3'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['s3.amazonaws.com'], eventName: CHANGE_EVENTS, requestParameters: { bucketName: [bucketName] } },
  });
}

export function alarmResources(ctx: RenderContext): Record<string, ManagedResource> {
  const { identity, spec, bucketName } = ctx;
  const region = spec.region;
  const out: Record<string, ManagedResource> = {};
  const topic = alertTopicArn(ctx);
  if (spec.alarms !== undefined && topic === undefined) {
    throw new ClaimError(
      'spec.alarms',
      'asks for alarms, but the platform has no alarm topic (EnvironmentConfig alarms.snsTopicArn) to deliver them',
      'set spec.alarms.snsTopicArn to a topic of this account, or ask the platform team to configure alarms.snsTopicArn',
    );
  }
  const alarms = spec.alarms !== undefined ? alarmSpecs(ctx) : [];

  if (requestMetricsEnabled(ctx)) {
    out[REQUEST_METRICS] = managed(identity, 's3.aws.upbound.io/v1beta2', 'BucketMetric', 'request-metrics', {
      region,
      bucket: bucketName,
      name: METRICS_FILTER_ID,
    });
  }
  if (topic !== undefined) for (const a of alarms) {
    out[`alarm-${a.key}`] = managed(
      identity,
      'cloudwatch.aws.upbound.io/v1beta2',
      'MetricAlarm',
      'alarm',
      {
        region,
        alarmDescription: `s3://${bucketName}: ${a.description} (${a.metricName} >= ${a.threshold} in 5 minutes)`,
        namespace: 'AWS/S3',
        metricName: a.metricName,
        dimensions: { BucketName: bucketName, FilterId: METRICS_FILTER_ID },
        statistic: 'Sum',
        period: 300,
        evaluationPeriods: 1,
        threshold: a.threshold,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        // Request metrics report nothing while nobody calls the bucket: that is healthy.
        treatMissingData: 'notBreaching',
        actionsEnabled: true,
        alarmActions: [topic],
        okActions: [topic],
        tags: ctx.tags,
      },
      { externalName: alarmName(bucketName, a) },
    );
  }
  if (topic !== undefined) {
    const ruleName = changeRuleName(bucketName);
    out[CHANGE_RULE] = managed(
      identity,
      'cloudwatchevents.aws.upbound.io/v1beta1',
      'Rule',
      'change-alerts',
      {
        region,
        description: `Changes to the protection of s3://${bucketName} (CloudTrail management events)`,
        eventPattern: changeEventPattern(bucketName),
        state: 'ENABLED',
        tags: ctx.tags,
      },
      { externalName: ruleName },
    );
    out[CHANGE_TARGET] = managed(identity, 'cloudwatchevents.aws.upbound.io/v1beta2', 'Target', 'change-alerts-target', {
      region,
      rule: ruleName,
      targetId: 'alert-topic',
      arn: topic,
    });
  }
  const email = spec.alarms?.email;
  if (email !== undefined && topic !== undefined) {
    out[EMAIL_SUBSCRIPTION] = managed(identity, 'sns.aws.upbound.io/v1beta1', 'TopicSubscription', 'alarm-email', {
      region,
      topicArn: topic,
      protocol: 'email',
      endpoint: email,
      filterPolicyScope: 'MessageBody',
      filterPolicy: emailFilterPolicy(bucketName, alarms.map((a) => alarmName(bucketName, a))),
    });
  }
  return out;
}

function alarmName(bucketName: string, alarm: AlarmSpec): string {
  return `${bucketName}-${alarm.key}`;
}

/**
 * The platform topic carries every tenant's alarms and alerts: an address subscribed to it gets only
 * the messages about this bucket. Alarm notifications carry `AlarmName`, EventBridge events carry the
 * bucket in `detail.requestParameters.bucketName`; exact matches only, so a bucket whose name starts
 * with ours gets nothing through this subscription.
 */
export function emailFilterPolicy(bucketName: string, alarmNames: string[]): string {
  return canonicalJson({ $or: [{ AlarmName: alarmNames }, { detail: { requestParameters: { bucketName: [bucketName] } } }] });
}

export type EmailSubscriptionState = 'Requested' | 'PendingConfirmation' | 'Confirmed';

/** Where the claim's e-mail subscription stands: AWS sends nothing to it until its owner confirms. */
export function emailSubscriptionState(ctx: RenderContext): EmailSubscriptionState | undefined {
  if (ctx.spec.alarms?.email === undefined) return undefined;
  const seen = ctx.observed[EMAIL_SUBSCRIPTION]?.resource.status?.atProvider;
  if (seen === undefined || typeof seen['arn'] !== 'string') return 'Requested';
  return seen['pendingConfirmation'] === false ? 'Confirmed' : 'PendingConfirmation';
}
