// Settings that are each valid but contradict each other (issue 23): the function renders them,
// and warns naming both fields, since one of them does not do what the tenant expects.
// Kept apart from validation (claim.ts, lifecycle.ts): warnings never refuse a claim.
import { logBucketIn } from './audit.js';
import type { RenderContext } from './context.js';
import { MINIMUM_STAY } from './spec-rules.js';
import type { Transition } from './types.js';

export interface SettingWarning {
  reason: string;
  message: string;
}

const DAYS_PER_YEAR = 365;

/** Every contradiction between two settings of the claim, or the claim and the platform's. */
export function settingWarnings(ctx: Pick<RenderContext, 'spec' | 'env'>): SettingWarning[] {
  const { spec } = ctx;
  const out: SettingWarning[] = [];
  const lock = spec.objectLock;
  if (lock !== undefined) {
    const lockField = lock.days !== undefined ? 'spec.objectLock.days' : 'spec.objectLock.years';
    const lockDays = lock.days ?? (lock.years ?? 0) * DAYS_PER_YEAR;
    const expiries = [
      { field: 'spec.lifecycle.expireAfterDays', days: spec.lifecycle.expireAfterDays },
      ...spec.lifecycle.rules.map((r, i) => ({ field: `spec.lifecycle.rules[${i}].expireAfterDays`, days: r.expireAfterDays })),
    ];
    for (const { field, days } of expiries) {
      if (days === undefined || days >= lockDays) continue;
      out.push({
        reason: 'LockOutlastsExpiry',
        message: `${lockField} locks every object for ${lockDays} days, longer than ${field} (${days}): at day ${days} S3 only hides the objects behind a delete marker, the locked versions stay, and are billed, until day ${lockDays}. Fix: raise ${field} to ${lockDays} or more, or shorten ${lockField}`,
      });
    }
  }
  const rules = [
    { field: 'spec.lifecycle', transitions: spec.lifecycle.transitions, expire: spec.lifecycle.expireAfterDays },
    ...spec.lifecycle.rules.map((r, i) => ({ field: `spec.lifecycle.rules[${i}]`, transitions: r.transitions, expire: r.expireAfterDays })),
  ];
  for (const { field, transitions, expire } of rules) {
    const last = transitions.at(-1) as Transition | undefined;
    if (last === undefined || expire === undefined) continue;
    const minimum = MINIMUM_STAY[last.storageClass];
    if (expire - last.days >= minimum) continue;
    const at = `${field}.transitions[${transitions.length - 1}]`;
    out.push({
      reason: 'ExpiresWithinMinimumStay',
      message: `${field}.expireAfterDays (${expire}) deletes objects ${expire - last.days} days after ${at} moves them to ${last.storageClass} (day ${last.days}), which S3 bills for at least ${minimum} days: each object pays ${minimum - (expire - last.days)} days it is not stored (render --cost shows it). Fix: set ${field}.expireAfterDays to ${last.days + minimum} or more, or drop that transition`,
    });
  }
  const replica = spec.replication?.destinationRegion;
  if (replica !== undefined && logBucketIn(ctx as RenderContext, replica) === undefined) {
    out.push({
      reason: 'ReplicaWithoutAccessLogs',
      message: `spec.replication.destinationRegion is ${replica}, but the platform has no access-log bucket there (EnvironmentConfig data.audit.logBucketsByRegion.${replica}): the replica gets no server access logs, so reads of the copy are not audited. Fix: the platform team adds data.audit.logBucketsByRegion.${replica} (docs/environment.md), or replicate to a region that has one`,
    });
  }
  return out;
}
