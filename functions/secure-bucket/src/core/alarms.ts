// Metrics and alarms: S3 request metrics only when the claim wants metrics or alarms (they are
// billed per metric), CloudWatch alarms on deletions and errors, and alerts on every change to the
// bucket's protection (policy, ACL, lifecycle, encryption, lock, public access) from CloudTrail.
import type { RenderContext } from './context.js';
import { boundedName, tenantSegment } from './naming.js';
import { isObject } from './fields.js';
import { canonicalJson } from './policy.js';
import type { OwnedBucket } from './owned-bucket.js';
import { managed } from './resources.js';
import { ClaimError, type ManagedResource } from './types.js';

export const REQUEST_METRICS = 'bucket-request-metrics';
/** The request-metrics filter id; CloudWatch shows it as the FilterId dimension. */
export const METRICS_FILTER_ID = 'EntireBucket';
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
  // The configurations that feed or silence the alarms and the audit trail: deleting the metrics
  // filter stops DeleteRequests from being reported at all, so that deletion is itself alerted.
  'PutBucketMetricsConfiguration',
  'DeleteBucketMetricsConfiguration',
  'PutBucketInventoryConfiguration',
  'DeleteBucketInventoryConfiguration',
  'PutBucketNotification',
  // The ownership tags are what a re-created claim trusts (adoption.ts).
  'PutBucketTagging',
  'DeleteBucketTagging',
  // What else changes who reaches the data, what it costs or where its listings go.
  'PutBucketIntelligentTieringConfiguration',
  'DeleteBucketIntelligentTieringConfiguration',
  'PutBucketAnalyticsConfiguration',
  'DeleteBucketAnalyticsConfiguration',
  'PutBucketRequestPayment',
  'PutBucketAccelerateConfiguration',
  'PutBucketWebsite',
  'DeleteBucketWebsite',
  'PutBucketAbac',
  'CreateBucketMetadataTableConfiguration',
  'DeleteBucketMetadataTableConfiguration',
];

/** S3 Control calls that change or remove an access point's policy (its own gate on the data). */
export const ACCESS_POINT_CHANGE_EVENTS = ['CreateAccessPoint', 'DeleteAccessPoint', 'DeleteAccessPointPolicy', 'PutAccessPointPolicy'];
/** KMS calls that change what a key protects or whether it still decrypts. */
export const KEY_CHANGE_EVENTS = ['CancelKeyDeletion', 'CreateGrant', 'DisableKey', 'DisableKeyRotation', 'PutKeyPolicy', 'ScheduleKeyDeletion'];

interface AlarmSpec {
  key: string;
  metricName: string;
  threshold: number;
  description: string;
}

/** The claim's own SNS topic (same account and region, this tenant's name), validated. */
function claimedTopicArn(ctx: RenderContext): string | undefined {
  const claimed = ctx.spec.alarms?.snsTopicArn;
  if (claimed === undefined) return undefined;
  const [, , , region, account, topicName] = claimed.split(':');
  if (account !== ctx.env.accountId || region !== ctx.spec.region) {
    // Bucket names, deleters and policy changes must not be published to somebody else's topic.
    throw new ClaimError(
      'spec.alarms.snsTopicArn',
      `'${claimed}' is not in this account (${ctx.env.accountId}) and region (${ctx.spec.region})`,
      `name a topic of account ${ctx.env.accountId} in ${ctx.spec.region}, or use spec.alarms.email`,
    );
  }
  const segment = tenantSegment(ctx.identity, ctx.env);
  if (topicName === undefined || !topicName.startsWith(`${segment}-`)) {
    // Another team's pager topic would receive this bucket's alarms (and its alarms' noise).
    throw new ClaimError(
      'spec.alarms.snsTopicArn',
      `topic '${String(topicName)}' is not one of this tenant's (its name must start with '${segment}-')`,
      `name a topic of your own, e.g. ${segment}-alerts, or use spec.alarms.email`,
    );
  }
  return claimed;
}

/** SNS topic for alarms and the e-mail subscription: the claim's (same account and region only), else the platform's. */
export function alertTopicArn(ctx: RenderContext): string | undefined {
  return claimedTopicArn(ctx) ?? ctx.env.alarms.snsTopicArn;
}

/** The platform's alert topic in `region` (EventBridge delivers to SNS only within a region). */
export function platformTopicIn(ctx: RenderContext, region: string): string | undefined {
  return region === ctx.env.region ? ctx.env.alarms.snsTopicArn : ctx.env.alarms.snsTopicArnsByRegion?.[region];
}

/** Where a change alert goes: EventBridge target id and topic. */
export interface AlertTarget {
  id: string;
  arn: string;
}

/**
 * Change alerts of an owned bucket always reach the platform's topic in its region; the claim's own
 * topic (source region only) is an extra target, never a replacement: a tenant cannot divert or
 * silence them by naming a topic of its own, existing or not.
 */
export function changeAlertTargets(ctx: RenderContext, b: OwnedBucket): AlertTarget[] {
  const platform = platformTopicIn(ctx, b.region);
  const claimed = b.region === ctx.spec.region ? claimedTopicArn(ctx) : undefined;
  const out: AlertTarget[] = [];
  if (platform !== undefined) out.push({ id: 'alert-topic', arn: platform });
  if (claimed !== undefined && claimed !== platform) out.push({ id: platform === undefined ? 'alert-topic' : 'tenant-topic', arn: claimed });
  return out;
}

export function requestMetricsEnabled(ctx: RenderContext): boolean {
  return ctx.spec.metrics || ctx.spec.alarms !== undefined;
}

/**
 * `DeleteRequests` counts DELETE requests, not objects: one DeleteObjects request removes up to 1,000
 * keys. A delete on a bucket nobody may delete from is an incident (1 request); where consumers
 * delete, 20 requests in 5 minutes (up to 20,000 objects) is a burst worth a look.
 */
export function deleteRequestsThreshold(ctx: RenderContext): number {
  const anyoneDeletes = ctx.consumers.some((c) => c.access === 'ReadWrite') || (ctx.spec.objectLock?.governanceBypassConsumers.length ?? 0) > 0;
  return anyoneDeletes ? 20 : 1;
}

function alarmSpecs(ctx: RenderContext): AlarmSpec[] {
  return [
    {
      key: 'delete-requests',
      metricName: 'DeleteRequests',
      threshold: deleteRequestsThreshold(ctx),
      description: 'delete requests (one DeleteObjects request removes up to 1,000 objects)',
    },
    { key: '4xx-errors', metricName: '4xxErrors', threshold: 50, description: 'client errors (access denied, missing keys): a broken client or probing' },
    { key: '5xx-errors', metricName: '5xxErrors', threshold: 10, description: 'server errors' },
  ];
}

export function changeRuleName(bucketName: string, what = 'changes'): string {
  return boundedName(`${bucketName}-${what}`, 64, bucketName, what);
}

function cloudTrailPattern(source: string, eventSource: string, eventName: string[], match: Record<string, unknown>): string {
  return canonicalJson({ source: [source], 'detail-type': ['AWS API Call via CloudTrail'], detail: { eventSource: [eventSource], eventName, ...match } });
}

export function changeEventPattern(bucketName: string): string {
  return cloudTrailPattern('aws.s3', 's3.amazonaws.com', CHANGE_EVENTS, { requestParameters: { bucketName: [bucketName] } });
}

/** One alert rule: what it watches, named after the bucket. */
interface AlertRule {
  key: string;
  what: string;
  description: string;
  eventPattern: string;
}

/** The bucket, its access points and its key: each watched by a rule in the bucket's region. */
function alertRules(b: OwnedBucket): Array<AlertRule & { part: 'changeAlerts' | 'accessPointAlerts' | 'keyAlerts' }> {
  const rules: Array<AlertRule & { part: 'changeAlerts' | 'accessPointAlerts' | 'keyAlerts' }> = [
    {
      part: 'changeAlerts',
      key: b.parts.changeAlerts.name,
      what: 'changes',
      description: `Changes to the protection of s3://${b.name} (CloudTrail management events)`,
      eventPattern: changeEventPattern(b.name),
    },
  ];
  const accessPoints = b.accessPoints.map((arn) => ({ name: arn.slice(arn.lastIndexOf('/') + 1), arn }));
  if (accessPoints.length > 0) {
    rules.push({
      part: 'accessPointAlerts',
      key: b.parts.accessPointAlerts.name,
      what: 'ap-changes',
      description: `Changes to the access points of s3://${b.name} and their policies`,
      // S3 Control names the access point in its request; CloudTrail lists it among the resources too.
      eventPattern: cloudTrailPattern('aws.s3', 's3.amazonaws.com', ACCESS_POINT_CHANGE_EVENTS, {
        $or: [{ requestParameters: { name: accessPoints.map((a) => a.name) } }, { resources: { ARN: accessPoints.map((a) => a.arn) } }],
      }),
    });
  }
  if (b.keyArn !== undefined) {
    rules.push({
      part: 'keyAlerts',
      key: b.parts.keyAlerts.name,
      what: 'key-changes',
      description: `Changes to the state or policy of the KMS key of s3://${b.name}`,
      eventPattern: cloudTrailPattern('aws.kms', 'kms.amazonaws.com', KEY_CHANGE_EVENTS, { resources: { ARN: [b.keyArn] } }),
    });
  }
  return rules;
}

/**
 * The change-alert rules of any owned bucket (the source, its replica), in the bucket's region, each
 * with one EventBridge target per topic of changeAlertTargets. Callers ask only when the source is
 * watched at all; a bucket outside the platform's region needs the platform's topic there.
 */
export function changeAlertResourcesFor(ctx: RenderContext, b: OwnedBucket): Record<string, ManagedResource> {
  const targets = changeAlertTargets(ctx, b);
  const out: Record<string, ManagedResource> = {};
  if (b.region !== ctx.env.region && platformTopicIn(ctx, b.region) === undefined) {
    // Every owned bucket is watched in its own region (DESIGN invariant 15): a replica whose region
    // has no platform topic would change unseen.
    throw new ClaimError(
      'spec.replication.destinationRegion',
      `the platform has no alert topic in ${b.region} (EnvironmentConfig data.alarms.snsTopicArnsByRegion.${b.region}), so changes to the replica s3://${b.name} would go unseen`,
      `replicate to a region the platform watches (${Object.keys(ctx.env.alarms.snsTopicArnsByRegion ?? {}).join(', ') || 'none yet'}), or ask the platform team to add alarms.snsTopicArnsByRegion.${b.region}`,
    );
  }
  if (targets.length === 0) return out;
  for (const rule of alertRules(b)) {
    const ruleName = changeRuleName(b.name, rule.what);
    const component = b.parts[rule.part].component;
    out[rule.key] = managed(ctx.identity, {
      kind: 'Rule',
      component: component,
      forProvider: { region: b.region, description: rule.description, eventPattern: rule.eventPattern, state: 'ENABLED', tags: ctx.tags },
      externalName: ruleName,
    });
    for (const target of targets) {
      const suffix = target.id === 'alert-topic' ? 'target' : `${target.id}-target`;
      out[`${rule.key}-${suffix}`] = managed(ctx.identity, {
        kind: 'Target',
        component: `${component}-${suffix}`,
        forProvider: {
          region: b.region,
          rule: ruleName,
          targetId: target.id,
          arn: target.arn,
        },
      });
    }
  }
  return out;
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
    out[REQUEST_METRICS] = managed(identity, {
      kind: 'BucketMetric',
      component: 'request-metrics',
      forProvider: {
        region,
        bucket: bucketName,
        name: METRICS_FILTER_ID,
      },
      externalName: `${bucketName}:${METRICS_FILTER_ID}`,
    });
  }
  if (topic !== undefined)
    for (const a of alarms) {
      out[`alarm-${a.key}`] = managed(identity, {
        kind: 'MetricAlarm',
        component: 'alarm',
        forProvider: {
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
        externalName: alarmName(bucketName, a),
      });
    }
  return out;
}

/** Change alerts of any owned bucket, whenever the claim's changes are watched at all. */
export function changeAlertsFor(ctx: RenderContext, b: OwnedBucket): Record<string, ManagedResource> {
  return alertTopicArn(ctx) !== undefined ? changeAlertResourcesFor(ctx, b) : {};
}

/** The e-mail subscription of spec.alarms.email to the claim's alarms and alerts. */
export function emailSubscriptionResources(ctx: RenderContext): Record<string, ManagedResource> {
  const { identity, spec, bucketName } = ctx;
  const region = spec.region;
  const topic = alertTopicArn(ctx);
  const alarms = spec.alarms !== undefined ? alarmSpecs(ctx) : [];
  const out: Record<string, ManagedResource> = {};
  const email = spec.alarms?.email;
  if (email !== undefined && topic !== undefined) {
    out[EMAIL_SUBSCRIPTION] = managed(identity, {
      kind: 'TopicSubscription',
      component: 'alarm-email',
      forProvider: {
        region,
        topicArn: topic,
        protocol: 'email',
        endpoint: email,
        filterPolicyScope: 'MessageBody',
        filterPolicy: emailFilterPolicy(
          ctx,
          alarms.map((a) => alarmName(bucketName, a)),
        ),
      },
    });
  }
  return out;
}

function alarmName(bucketName: string, alarm: AlarmSpec): string {
  return `${bucketName}-${alarm.key}`;
}

/**
 * The platform topic carries every tenant's alarms and alerts: an address subscribed to it gets only
 * the messages about this bucket. Alarm notifications carry `AlarmName`; EventBridge events carry the
 * bucket (`detail.requestParameters.bucketName`), the access point (`...name`) or the key
 * (`...keyId`, as the caller wrote it: id or ARN). Exact matches only, so a bucket whose name starts
 * with ours gets nothing through this subscription.
 */
export function emailFilterPolicy(ctx: RenderContext, alarmNames: string[]): string {
  const branches: Array<Record<string, unknown>> = [{ AlarmName: alarmNames }, { detail: { requestParameters: { bucketName: [ctx.bucketName] } } }];
  const accessPoints = ctx.consumers.flatMap((c) => (c.accessPointName ? [c.accessPointName] : []));
  if (accessPoints.length > 0) branches.push({ detail: { requestParameters: { name: accessPoints } } });
  if (ctx.keyArn !== undefined) branches.push({ detail: { requestParameters: { keyId: [ctx.keyArn, ctx.keyArn.slice(ctx.keyArn.lastIndexOf('/') + 1)] } } });
  return canonicalJson({ $or: branches });
}

export type EmailSubscriptionState = 'Requested' | 'PendingConfirmation' | 'Confirmed';

/** Where the claim's e-mail subscription stands: AWS sends nothing to it until its owner confirms. */
export function emailSubscriptionState(ctx: RenderContext): EmailSubscriptionState | undefined {
  if (ctx.spec.alarms?.email === undefined) return undefined;
  const seen = ctx.observed[EMAIL_SUBSCRIPTION]?.resource.status?.atProvider;
  if (!isObject(seen) || typeof seen['arn'] !== 'string') return 'Requested';
  return seen['pendingConfirmation'] === false ? 'Confirmed' : 'PendingConfirmation';
}
