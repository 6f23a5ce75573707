// The access matrix a security reviewer reads: each principal that matters for a claim, each
// action family, each place in the bucket, each network path -> the simulator's decision and the
// statement that made it. `render --explain-access` prints it; the tests evaluate the same
// requests against expectations of their own.
import { consumerRoleArn } from '../../src/core/index.js';
import type { ConsumerPolicies, PolicyJson, PolicySet } from './policy-set.js';
import {
  platformBoundary,
  anonymous,
  evaluateKms,
  evaluateS3,
  paths,
  type Caller,
  type Decision,
  type Path,
  type Target,
  type TlsVersion,
} from './simulate.js';

export type PrincipalKind = 'consumer' | 'other-namespace' | 'node' | 'provider' | 'break-glass' | 'anonymous';

export interface Principal {
  kind: PrincipalKind;
  label: string;
  caller: Caller;
  /** The consumer itself, or for another namespace's role the consumer it imitates. */
  consumer?: ConsumerPolicies;
  note: string;
}

const allow = (sid: string, actions: string[]): PolicyJson => ({
  Version: '2012-10-17',
  Statement: [{ Sid: sid, Effect: 'Allow', Action: actions, Resource: '*' }],
});

export const OTHER_NAMESPACE = 'intruder-ns';

/**
 * The principals of the matrix. The outsiders are modelled at their worst, so that a Denied proves
 * the bucket's own policies stop them, not just a modest IAM policy of theirs.
 */
export function principalsOf(set: PolicySet): Principal[] {
  const env = set.env;
  const out: Principal[] = set.consumers.map((c) => ({
    kind: 'consumer' as const,
    label: c.name,
    consumer: c,
    caller: { id: c.name, arn: c.roleArn, identityPolicies: [{ name: 'bucket-access', policy: c.accessPolicy }], boundary: platformBoundary(set.env) },
    note: `${c.access} on ${c.prefixes.join(', ')}${c.accessPointArn ? ', through its access point' : ''}`,
  }));
  const first = set.consumers[0];
  if (first) {
    // The same consumer and ServiceAccount name in another namespace, its role holding the very
    // same IAM policy as ours (as if copied by mistake): only our resource policies can stop it.
    // The intruder's namespace is a registered tenant too: its role is a platform role like ours.
    const withIntruder = { ...env, tenants: { ...env.tenants, [OTHER_NAMESPACE]: { nameSegment: OTHER_NAMESPACE } } };
    const arn = consumerRoleArn({ ...set.identity, claimNamespace: OTHER_NAMESPACE }, first, withIntruder);
    out.push({
      kind: 'other-namespace',
      label: `${OTHER_NAMESPACE}/${first.serviceAccount}`,
      consumer: first,
      caller: { id: 'other-namespace', arn, identityPolicies: [{ name: 'copied-access', policy: first.accessPolicy }], boundary: platformBoundary(set.env) },
      note: `role of ServiceAccount ${first.serviceAccount} in namespace ${OTHER_NAMESPACE}, with a copy of ${first.name}'s IAM policy`,
    });
  }
  const nodeRole = env.access.nodeRoleArn ?? `arn:${env.partition}:iam::${env.accountId}:role/${env.clusterName}-eks-node`;
  out.push({
    kind: 'node',
    label: 'node role',
    caller: { id: 'node', arn: nodeRole, identityPolicies: [{ name: 'over-granted', policy: allow('EverythingS3AndKms', ['s3:*', 'kms:*']) }] },
    note: `${nodeRole}, assumed over-granted: s3:* and kms:* on *`,
  });
  out.push({
    kind: 'provider',
    label: 'provider role',
    caller: {
      id: 'provider',
      arn: env.access.providerRoleArn,
      identityPolicies: [{ name: 'provider', policy: allow('ProviderEverything', ['s3:*', 'kms:*']) }],
    },
    note: `${env.access.providerRoleArn} (Crossplane's provider), with s3:* and kms:* on *: configuration only, never data; listing (HeadBucket) only via the endpoint`,
  });
  const breakGlass = env.access.breakGlassPrincipalArns[0];
  if (breakGlass !== undefined) {
    out.push({
      kind: 'break-glass',
      label: 'break-glass',
      caller: { id: 'break-glass', arn: breakGlass, identityPolicies: [{ name: 'break-glass', policy: allow('EmergencyAccess', ['s3:*', 'kms:*']) }] },
      note: `${breakGlass}, with s3:* and kms:* on *`,
    });
  }
  out.push({ kind: 'anonymous', label: 'anonymous', caller: anonymous, note: 'an unsigned request from anyone' });
  return out;
}

export type Family = 'read' | 'list' | 'write' | 'delete' | 'policy-admin';
export const FAMILIES: Family[] = ['read', 'list', 'write', 'delete', 'policy-admin'];
export type Place = 'own-prefix' | 'other-prefix' | 'bucket-root';
export const PLACES: Place[] = ['own-prefix', 'other-prefix', 'bucket-root'];

export const FAMILY_ACTION: Record<Family, string> = {
  read: 's3:GetObject',
  list: 's3:ListBucket',
  write: 's3:PutObject',
  delete: 's3:DeleteObject',
  'policy-admin': 's3:PutBucketPolicy',
};

/** A place in the bucket, from the principal's point of view: its own prefix, another one, the root. */
export interface Spot {
  place: Place;
  /** '' for the bucket root. */
  prefix: string;
}

const overlaps = (a: string, b: string): boolean => a.startsWith(b) || b.startsWith(a);

/**
 * Every prefix of every consumer, then the root: a consumer's own prefixes are 'own-prefix', the
 * others' prefixes that do not overlap them 'other-prefix'. A claim without consumers still gets
 * one prefix, so object requests are judged.
 */
export function spotsFor(set: PolicySet, principal: Principal): Spot[] {
  const own = principal.consumer?.prefixes ?? [];
  const all = [...new Set(set.consumers.flatMap((c) => c.prefixes))];
  const others = all.filter((p) => !own.some((o) => overlaps(o, p)));
  const spots: Spot[] = [
    ...own.map((prefix) => ({ place: 'own-prefix' as const, prefix })),
    ...others.map((prefix) => ({ place: 'other-prefix' as const, prefix })),
  ];
  if (spots.length === 0) spots.push({ place: 'other-prefix', prefix: 'data/' });
  return [...spots, { place: 'bucket-root', prefix: '' }];
}

/** What a family does at a place: an object key under the prefix, or a listing of it. */
export function targetFor(family: Family, prefix: string): Target {
  if (family === 'list') return { kind: 'bucket', listPrefix: prefix };
  if (family === 'policy-admin') return { kind: 'bucket' };
  return { kind: 'object', key: `${prefix}report-2024-01-01.json` };
}

const TLS_ORDER: TlsVersion[] = ['1.0', '1.1', '1.2', '1.3'];

/** The paths a reviewer wants side by side: good TLS, too old a TLS, no TLS, internet, access points. */
export function reviewPaths(set: PolicySet): Path[] {
  const min = set.minimumTls;
  const below = TLS_ORDER[TLS_ORDER.indexOf(min) - 1] as TlsVersion;
  const aps = set.consumers.flatMap((c) => (c.accessPointArn ? [paths.accessPoint(c.accessPointArn, min, c.name)] : []));
  return [paths.endpoint(min), paths.endpoint(below), paths.endpointPlainHttp(), paths.internet(min), ...aps];
}

export interface MatrixRow {
  principal: Principal;
  family: Family;
  place: Place;
  prefix: string;
  path: Path;
  decision: Decision;
}

/** The rows of the review matrix (policy-admin only at the bucket root: it has no prefix). */
export async function explainMatrix(set: PolicySet): Promise<MatrixRow[]> {
  const rows: MatrixRow[] = [];
  for (const principal of principalsOf(set)) {
    const spots = spotsFor(set, principal);
    for (const family of FAMILIES) {
      for (const { place, prefix } of family === 'policy-admin' ? spots.filter((s) => s.place === 'bucket-root') : spots) {
        for (const path of reviewPaths(set)) {
          const decision = await evaluateS3(set, { caller: principal.caller, action: FAMILY_ACTION[family], target: targetFor(family, prefix), path });
          rows.push({ principal, family, place, prefix, path, decision });
        }
      }
    }
  }
  return rows;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** What a row asks, as the first column shows it: `write sales_event/`, `list root`, `policy-admin bucket`. */
export function requestLabel(row: Pick<MatrixRow, 'family' | 'place' | 'prefix'>): string {
  const where = row.place === 'bucket-root' ? (row.family === 'policy-admin' ? 'bucket' : 'root') : row.prefix;
  return `${row.family} ${where}`;
}

/** One compact table per principal; each cell points at a numbered deciding statement. */
export function formatMatrix(set: PolicySet, rows: MatrixRow[]): string {
  const lines: string[] = [
    `Access matrix for ${set.identity.claimNamespace}/${set.identity.claimName}: s3://${set.bucketName} (${set.region}, TLS >= ${set.minimumTls})`,
    `Evaluated with @cloud-copilot/iam-simulate: identity policies + permissions boundary, bucket policy, access point policy, endpoint policy, key policy.`,
    `ALLOW/deny per request; [n] names the statement that decided (see the legend under each table).`,
  ];
  const pathIds = [...new Set(rows.map((r) => r.path.id))];
  // Widest label + 2 (a long prefix widens the column instead of pushing the cells out of line).
  const first = Math.max(9, ...rows.map((r) => requestLabel(r).length)) + 2;
  const cellWidth = Math.max(10, ...rows.map((r) => `${r.decision.allowed ? 'ALLOW' : 'deny'}[99]`.length));
  const width = Math.max(cellWidth, ...pathIds.map((p) => p.length)) + 2;
  for (const principal of [...new Set(rows.map((r) => r.principal))]) {
    const mine = rows.filter((r) => r.principal === principal);
    const legend: string[] = [];
    const ref = (d: Decision): string => {
      let i = legend.indexOf(d.decidedBy);
      if (i < 0) i = legend.push(d.decidedBy) - 1;
      return `${d.allowed ? 'ALLOW' : 'deny'}[${i + 1}]`;
    };
    lines.push('', `${principal.label}: ${principal.note}`);
    lines.push(`  ${pad('request', first)}${pathIds.map((p) => pad(p, width)).join('')}`.trimEnd());
    const labels = [...new Set(mine.map(requestLabel))];
    for (const label of labels) {
      const cells = pathIds.map((p) => {
        const row = mine.find((r) => requestLabel(r) === label && r.path.id === p);
        return pad(row ? ref(row.decision) : '-', width);
      });
      lines.push(`  ${pad(label, first)}${cells.join('')}`.trimEnd());
    }
    lines.push(`  ${legend.map((l, i) => `[${i + 1}] ${l}`).join('  ')}`);
  }
  return lines.join('\n');
}

/** What a reviewer asks of a key: use it through S3, or change whether and for whom it works. */
export const KEY_REQUESTS: Array<{ label: string; action: string; viaS3: boolean }> = [
  { label: 'decrypt via S3', action: 'kms:Decrypt', viaS3: true },
  { label: 'new data key via S3', action: 'kms:GenerateDataKey', viaS3: true },
  { label: 'decrypt directly', action: 'kms:Decrypt', viaS3: false },
  { label: 'put key policy', action: 'kms:PutKeyPolicy', viaS3: false },
  { label: 'disable key', action: 'kms:DisableKey', viaS3: false },
  { label: 'schedule deletion', action: 'kms:ScheduleKeyDeletion', viaS3: false },
];

export interface KeyRow {
  principal: Principal;
  request: (typeof KEY_REQUESTS)[number];
  decision: Decision;
}

/** The key's matrix: the same principals (with kms:* where they are over-granted) against the key policy. */
export async function explainKeyMatrix(set: PolicySet): Promise<KeyRow[]> {
  if (set.keyArn === undefined) return [];
  const admins = set.env.kms.keyAdminArns.map((arn): Principal => ({
    kind: 'break-glass',
    label: 'key admin',
    caller: { id: 'key-admin', arn, identityPolicies: [{ name: 'kms-admin', policy: allow('KmsEverything', ['kms:*']) }] },
    note: `${arn}, with kms:* on *`,
  }));
  const rows: KeyRow[] = [];
  for (const principal of [...principalsOf(set).filter((p) => p.kind !== 'anonymous'), ...admins]) {
    for (const request of KEY_REQUESTS) {
      const decision = await evaluateKms(set, principal.caller, request.action, request.viaS3 ? `s3.${set.region}.amazonaws.com` : undefined);
      rows.push({ principal, request, decision });
    }
  }
  return rows;
}

export function formatKeyMatrix(set: PolicySet, rows: KeyRow[]): string {
  if (rows.length === 0) return `Key of s3://${set.bucketName}: not created yet`;
  const width = Math.max(...rows.map((r) => r.principal.label.length)) + 2;
  const cell = Math.max(...KEY_REQUESTS.map((r) => r.label.length)) + 2;
  const lines = [
    `Key matrix: ${set.keyArn} (s3://${set.bucketName})`,
    `  ${pad('principal', width)}${KEY_REQUESTS.map((r) => pad(r.label, cell)).join('')}`.trimEnd(),
  ];
  for (const principal of [...new Set(rows.map((r) => r.principal))]) {
    const mine = rows.filter((r) => r.principal === principal);
    lines.push(
      `  ${pad(principal.label, width)}${KEY_REQUESTS.map((q) => pad(mine.find((r) => r.request === q)?.decision.allowed ? 'ALLOW' : 'deny', cell)).join('')}`.trimEnd(),
    );
  }
  return lines.join('\n');
}
