// WORM: object lock with a default retention. AWS lets a bucket gain object lock later but never
// lose it; the platform never moves COMPLIANCE to GOVERNANCE nor shortens a default retention. A
// claim that would do either is refused, read from what AWS holds (an Observe-only report for a
// re-created claim, adoption.ts), never silently ignored.
import type { RenderContext, ResolvedConsumer } from './context.js';
import { heldInAws } from './adoption.js';
import { isObject } from './fields.js';
import type { Statement } from './policy.js';
import { bucketPart, type OwnedBucket } from './owned-bucket.js';
import { ClaimError, type LockMode, type ManagedResource, type ObjectLock } from './types.js';

type AwsLockMode = 'COMPLIANCE' | 'GOVERNANCE';

/** The actions a governance-bypass consumer gets on its own prefixes: delete or shorten a locked version. */
export const GOVERNANCE_BYPASS_ACTIONS = ['s3:BypassGovernanceRetention', 's3:DeleteObjectVersion', 's3:PutObjectRetention'];

export function awsLockMode(mode: LockMode): AwsLockMode {
  return mode === 'Compliance' ? 'COMPLIANCE' : 'GOVERNANCE';
}

/** Retention in days, for comparisons (S3 counts a retention year as 365 days). */
export function retentionDays(retention: { days?: number | undefined; years?: number | undefined }): number {
  return retention.days ?? (retention.years ?? 0) * 365;
}

export function defaultRetention(lock: ObjectLock): { mode: AwsLockMode; days?: number; years?: number } {
  const out: { mode: AwsLockMode; days?: number; years?: number } = { mode: awsLockMode(lock.mode) };
  if (lock.days !== undefined) out.days = lock.days;
  if (lock.years !== undefined) out.years = lock.years;
  return out;
}

interface ObservedLock {
  enabled: boolean;
  retention?: { mode: string; days?: number; years?: number };
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** A field of what AWS holds for one of a bucket's composed resources (status.atProvider). */
function observedField(ctx: RenderContext, b: OwnedBucket, name: string, read: (fields: Record<string, unknown>) => unknown): unknown {
  const held = heldInAws(ctx, name, b.name);
  return held === undefined ? undefined : read(held);
}

export function observedLock(ctx: RenderContext, b: OwnedBucket): ObservedLock {
  const enabledOnBucket = observedField(ctx, b, b.parts.bucket.name, (f) => (f['objectLockEnabled'] === true ? true : undefined)) === true;
  const retention = observedField(ctx, b, b.parts.objectLock.name, (f) => {
    const rule = isObject(f['rule']) ? f['rule'] : undefined;
    const dr = rule && isObject(rule['defaultRetention']) ? rule['defaultRetention'] : undefined;
    return dr && typeof dr['mode'] === 'string' ? dr : undefined;
  }) as Record<string, unknown> | undefined;
  const out: ObservedLock = { enabled: enabledOnBucket || retention !== undefined };
  if (retention) {
    out.retention = { mode: retention['mode'] as string };
    const days = numberOrUndefined(retention['days']);
    const years = numberOrUndefined(retention['years']);
    if (days !== undefined) out.retention.days = days;
    if (years !== undefined) out.retention.years = years;
  }
  return out;
}

function describeRetention(r: { mode: string; days?: number | undefined; years?: number | undefined }): string {
  return `${r.mode} ${r.days !== undefined ? `${r.days} days` : `${r.years} years`}`;
}

/** Throws when the claim would remove object lock, turn COMPLIANCE into GOVERNANCE, or shorten the default retention. */
export function guardObjectLock(ctx: RenderContext, b: OwnedBucket): void {
  const seen = observedLock(ctx, b);
  const lock = ctx.spec.objectLock;
  if (seen.enabled && lock === undefined) {
    const was = seen.retention ? ` (${describeRetention(seen.retention)})` : '';
    throw new ClaimError(
      'spec.objectLock',
      `was removed, but s3://${b.name} has object lock enabled${was} and AWS can never disable it`,
      'restore spec.objectLock with the same mode and at least the same retention',
    );
  }
  const before = seen.retention;
  if (lock === undefined || before === undefined) return;
  if (before.mode === 'COMPLIANCE' && lock.mode !== 'Compliance') {
    throw new ClaimError(
      'spec.objectLock.mode',
      `would change the default retention from COMPLIANCE to GOVERNANCE, which lets principals bypass it`,
      `keep spec.objectLock.mode: Compliance (current retention ${describeRetention(before)})`,
    );
  }
  if (retentionDays(lock) < retentionDays(before)) {
    const unit = lock.days !== undefined ? 'days' : 'years';
    throw new ClaimError(
      `spec.objectLock.${unit}`,
      `would shorten the ${before.mode} default retention from ${describeRetention(before)} to ${describeRetention(defaultRetention(lock))}`,
      `keep the retention at ${before.days !== undefined ? `days: ${before.days}` : `years: ${before.years}`} or longer; a default retention can only grow`,
    );
  }
}

/** The claim's lock on any bucket it owns (the replica holds what the source holds), guarded against AWS's. */
export function objectLockResourcesFor(ctx: RenderContext, b: OwnedBucket): Record<string, ManagedResource> {
  guardObjectLock(ctx, b);
  const lock = ctx.spec.objectLock;
  if (!lock) return {};
  return bucketPart(ctx, b, {
    part: 'objectLock',
    kind: 'BucketObjectLockConfiguration',
    fields: { objectLockEnabled: 'Enabled', rule: { defaultRetention: defaultRetention(lock) } },
  });
}

/** Principals allowed to bypass GOVERNANCE retention: the named consumers and break-glass. None for COMPLIANCE. */
export function governanceBypassPrincipals(ctx: RenderContext): string[] {
  const lock = ctx.spec.objectLock;
  if (lock?.mode !== 'Governance') return [];
  const consumers = ctx.consumers.filter((c) => lock.governanceBypassConsumers.includes(c.name)).map((c) => c.roleArn);
  return [...consumers, ...ctx.env.access.breakGlassPrincipalArns];
}

/**
 * For identity.ts: the statement a consumer's role policy adds when the claim names it in
 * spec.objectLock.governanceBypassConsumers (undefined otherwise): bypass on its own prefixes only.
 */
export function governanceBypassStatement(ctx: RenderContext, consumer: ResolvedConsumer): Statement | undefined {
  const lock = ctx.spec.objectLock;
  if (lock?.mode !== 'Governance' || !lock.governanceBypassConsumers.includes(consumer.name)) return undefined;
  const resources = consumer.prefixes.map((p) => `${ctx.bucketArn}/${p}*`);
  if (consumer.accessPointArn) resources.push(...consumer.prefixes.map((p) => `${consumer.accessPointArn}/object/${p}*`));
  return { Sid: 'BypassGovernanceRetentionOnOwnPrefixes', Effect: 'Allow', Action: GOVERNANCE_BYPASS_ACTIONS, Resource: resources };
}

/**
 * Bucket-policy denies for a locked bucket: nobody but the allowed principals may bypass governance
 * (an account admin with s3:* included), and only the provider may change the lock configuration.
 */
export function objectLockBucketPolicyStatements(ctx: RenderContext, b: OwnedBucket): Statement[] {
  if (!ctx.spec.objectLock) return [];
  const allowed = b.governanceBypass;
  const bypass: Statement = {
    Sid: 'DenyGovernanceBypassToOthers',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:BypassGovernanceRetention',
    Resource: `${b.arn}/*`,
  };
  if (allowed.length > 0) bypass.Condition = { ArnNotLike: { 'aws:PrincipalArn': allowed } };
  return [
    bypass,
    {
      Sid: 'DenyLockConfigurationChangesExceptProvider',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutBucketObjectLockConfiguration',
      Resource: b.arn,
      Condition: { ArnNotLike: { 'aws:PrincipalArn': ctx.env.access.providerRoleArn } },
    },
  ];
}
