// The controls table (docs/controls.md) checked against what the function renders: for every
// example claim, every control that applies to it gets one test named after the control id.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  type BucketSpec,
  CIS_BUCKET_POLICY_CHANGE_EVENTS,
  type PlatformEnvironment,
  providerRolePolicyDocument,
  readEnvironment,
  readSpec,
  versioningRequired,
} from '../../functions/secure-bucket/src/core/index.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { repoRoot } from '../lib/repo.js';
import { environmentConfig, exampleClaims, type Json } from '../lib/function-fixtures.js';
import { fp, list, renderOk, statementsOf, type PolicyStatement } from '../function/protection-fixtures.js';

interface Row {
  id: string;
  applies: string;
}

/** The table rows of docs/controls.md: `| id | title | applies | satisfied by |`. */
function controlRows(): Row[] {
  const text = readFileSync(path.join(repoRoot, 'docs/controls.md'), 'utf8');
  return text
    .split('\n')
    .filter((line) => /^\| (S3\.\d+|CIS [\d.]+|CIS 1\.4\.0 [\d.]+|CloudWatch\.\d+|Platform\.\d+) \|/.test(line))
    .map((line) => {
      const cells = line.split('|').map((c) => c.trim());
      return { id: cells[1]!, applies: cells[3]! };
    });
}

interface Subject {
  spec: BucketSpec;
  env: PlatformEnvironment;
  resources: Record<string, Json>;
}

/** Applies-column vocabulary -> which subjects the control applies to. Unknown wording fails. */
const CONDITIONS: Record<string, (s: Subject) => boolean> = {
  always: () => true,
  'when spec.replication': (s) => s.spec.replication !== undefined,
  'when spec.objectLock': (s) => s.spec.objectLock !== undefined,
  'when spec.alarms': (s) => s.spec.alarms !== undefined,
  'when versioned': (s) => versioningRequired({ spec: s.spec }),
  'when access points': (s) => s.spec.consumers.some((c) => c.accessPoint),
  'when environment audit.logBucket': (s) => s.env.audit.logBucket !== undefined,
  'when alerts': (s) => s.spec.alarms !== undefined || s.env.alarms.snsTopicArn !== undefined,
  'when spec.replication and alerts': (s) => s.spec.replication !== undefined && (s.spec.alarms !== undefined || s.env.alarms.snsTopicArn !== undefined),
};

function applies(row: Row, s: Subject): boolean {
  if (row.applies.startsWith('no:')) return false;
  const condition = CONDITIONS[row.applies];
  if (!condition) throw new Error(`${row.id}: unknown Applies wording '${row.applies}' (known: ${Object.keys(CONDITIONS).join(', ')}, no: <reason>)`);
  return condition(s);
}

// ---------------------------------------------------------------------------------------------
// One check per control: returns the problems found (empty = satisfied).

const BUCKET_ARN = (s: Subject) => `arn:aws:s3:::${String(fp(s.resources, 'bucket-public-access-block')['bucket'])}`;
const bucketPolicy = (s: Subject): PolicyStatement[] => statementsOf(fp(s.resources, 'bucket-policy')['policy']);
const ALL_FOUR = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };

function publicAccessBlocked(s: Subject): string[] {
  const pab = fp(s.resources, 'bucket-public-access-block');
  return Object.entries(ALL_FOUR)
    .filter(([k]) => pab[k] !== true)
    .map(([k]) => `${k} is not true`);
}

/** Allow statements that could reach a principal outside this account. */
function allowsOutsideAccount(s: Subject): string[] {
  return bucketPolicy(s)
    .filter((st) => st.Effect === 'Allow')
    .filter((st) => {
      const principal = JSON.stringify(st.Principal ?? '');
      const pinned = st.Condition?.['StringEquals']?.['aws:PrincipalAccount'] === s.env.accountId;
      return principal.includes('*') ? !pinned : !principal.includes(`:${s.env.accountId}:`);
    })
    .map((st) => `${st.Sid} allows principals outside account ${s.env.accountId}`);
}

function denyInsecureTransport(s: Subject): string[] {
  const st = bucketPolicy(s).find(
    (x) => x.Effect === 'Deny' && x.Principal === '*' && list(x.Action).includes('s3:*') && x.Condition?.['Bool']?.['aws:SecureTransport'] === 'false',
  );
  if (!st) return ['no Deny of s3:* when aws:SecureTransport is false'];
  return [BUCKET_ARN(s), `${BUCKET_ARN(s)}/*`].filter((r) => !list(st.Resource).includes(r)).map((r) => `the TLS deny does not cover ${r}`);
}

function kmsEncrypted(s: Subject): string[] {
  const rule = (fp(s.resources, 'bucket-encryption')['rule'] as Json[] | undefined)?.[0] ?? {};
  const sse = (rule['applyServerSideEncryptionByDefault'] ?? {}) as Json;
  const problems: string[] = [];
  if (sse['sseAlgorithm'] !== 'aws:kms') problems.push(`sseAlgorithm is ${String(sse['sseAlgorithm'])}`);
  if (
    JSON.stringify(sse['kmsMasterKeyIdSelector']) !== JSON.stringify({ matchControllerRef: true, matchLabels: { 'platform.example.org/component': 'kms-key' } })
  ) {
    problems.push("the default key is not this bucket's own kms-key");
  }
  if (fp(s.resources, 'kms-key')['enableKeyRotation'] !== true) problems.push('key rotation is off');
  return problems;
}

function lifecycleRule(s: Subject, id: string): Json | undefined {
  return (fp(s.resources, 'bucket-lifecycle')['rule'] as Json[]).find((r) => r['id'] === id && r['status'] === 'Enabled');
}

function alarms(s: Subject): Json[] {
  return Object.values(s.resources)
    .filter((r) => r['kind'] === 'MetricAlarm')
    .map((r) => ((r['spec'] as Json)['forProvider'] ?? {}) as Json);
}

/** Issue 19's controls: what the platform adds beyond Security Hub and CIS. */
const externalNameOf = (s: Subject, name: string): string =>
  String(((s.resources[name]!['metadata'] as Json)['annotations'] as Json)['crossplane.io/external-name']);
const targetsOf = (s: Subject): Json[] =>
  Object.values(s.resources)
    .filter((r) => r['kind'] === 'Target')
    .map((r) => ((r['spec'] as Json)['forProvider'] ?? {}) as Json);

function replicaPinnedToAccount(s: Subject): string[] {
  const problems: string[] = [];
  const destination = (((fp(s.resources, 'bucket-replication')['rule'] as Json[])[0] ?? {})['destination'] ?? {}) as Json;
  if (destination['account'] !== s.env.accountId) problems.push('replication destination names no account');
  if ((destination['accessControlTranslation'] as Json | undefined)?.['owner'] !== 'Destination') problems.push('no owner override');
  const inline = (fp(s.resources, 'replication-role')['inlinePolicy'] as Array<{ policy: string }>)[0]!.policy;
  for (const st of statementsOf(inline).filter((x) => list(x.Action).some((a) => a.startsWith('s3:')))) {
    if (st.Condition?.['StringEquals']?.['aws:ResourceAccount'] !== s.env.accountId) problems.push(`replication role ${st.Sid} is not pinned to the account`);
  }
  for (const part of ['replica-versioning', 'replica-encryption'])
    if (fp(s.resources, part)['expectedBucketOwner'] !== s.env.accountId) problems.push(`${part} expects no owner`);
  return problems;
}

function changeAlertsReachPlatform(s: Subject): string[] {
  const platform = s.env.alarms.snsTopicArn;
  if (platform === undefined) return [];
  const targets = targetsOf(s).filter((t) => t['region'] === s.spec.region);
  const rules = [...new Set(targets.map((t) => String(t['rule'])))];
  return rules.filter((rule) => !targets.some((t) => t['rule'] === rule && t['arn'] === platform)).map((rule) => `${rule} does not reach ${platform}`);
}

function replicaWatchedInItsRegion(s: Subject): string[] {
  const region = String(fp(s.resources, 'replica-bucket')['region']);
  const topic = s.env.alarms.snsTopicArnsByRegion?.[region];
  const rule = fp(s.resources, 'replica-change-alerts');
  const problems: string[] = [];
  if (rule['region'] !== region) problems.push('replica rule not in the replica region');
  if (
    JSON.stringify((JSON.parse(String(rule['eventPattern'])) as { detail: { requestParameters: unknown } }).detail.requestParameters) !==
    JSON.stringify({ bucketName: [externalNameOf(s, 'replica-bucket')] })
  )
    problems.push('replica rule not on the replica');
  if (s.resources['replica-key-change-alerts'] === undefined) problems.push('replica key unwatched');
  if (fp(s.resources, 'replica-change-alerts-target')['arn'] !== topic) problems.push(`replica alerts do not reach ${String(topic)}`);
  return problems;
}

function providerListsOnlyViaEndpoint(s: Subject): string[] {
  const st = bucketPolicy(s).find((x) => x.Sid === 'DenyProviderListingOutsideVpcEndpoint');
  if (!st || st.Effect !== 'Deny' || !list(st.Action).includes('s3:ListBucket')) return ['no deny of s3:ListBucket to the provider outside the endpoint'];
  return st.Condition?.['ArnLike']?.['aws:PrincipalArn'] === s.env.access.providerRoleArn ? [] : ['the listing deny does not name the provider role'];
}

function rolesCarryTheBoundaryTheProviderRequires(s: Subject): string[] {
  const create = providerRolePolicyDocument(s.env).Statement.find((x) => x.Sid === 'CreateRolesWithPlatformBoundary');
  const required = create?.Condition?.StringEquals?.['iam:PermissionsBoundary'];
  if (required !== s.env.identity.permissionsBoundaryArn) return ['the provider role policy does not require the platform boundary'];
  return Object.entries(s.resources)
    .filter(([, r]) => r['kind'] === 'Role')
    .filter(([name]) => fp(s.resources, name)['permissionsBoundary'] !== required)
    .map(([name]) => `${name} would be refused by the provider role policy (no platform boundary)`);
}

/** Every rendered key carries the tag the provider role's key management is conditioned on. */
function keysCarryTheTagTheProviderRequires(s: Subject): string[] {
  const manage = providerRolePolicyDocument(s.env).Statement.find((x) => x.Sid === 'ManagePlatformKeys');
  const required = Object.entries(manage?.Condition?.StringEquals ?? {});
  if (required.length !== 1 || !required[0]![0].startsWith('aws:ResourceTag/'))
    return ['the provider role policy does not condition key management on a resource tag'];
  const [key, value] = required[0]!;
  const tag = key.slice('aws:ResourceTag/'.length);
  return Object.entries(s.resources)
    .filter(([, r]) => r['kind'] === 'Key')
    .filter(([name]) => ((fp(s.resources, name)['tags'] ?? {}) as Json)[tag] !== value)
    .map(([name]) => `${name} would be out of the provider's reach (no ${tag} tag)`);
}

const CHECKS: Record<string, (s: Subject) => string[]> = {
  'Platform.1': replicaPinnedToAccount,
  'Platform.2': changeAlertsReachPlatform,
  'Platform.3': replicaWatchedInItsRegion,
  'Platform.4': providerListsOnlyViaEndpoint,
  'Platform.5': rolesCarryTheBoundaryTheProviderRequires,
  'Platform.6': keysCarryTheTagTheProviderRequires,
  'S3.2': (s) => [...publicAccessBlocked(s), ...allowsOutsideAccount(s)],
  'S3.3': (s) => [...publicAccessBlocked(s), ...allowsOutsideAccount(s)],
  'S3.5': denyInsecureTransport,
  'S3.6': allowsOutsideAccount,
  'S3.7': (s) => {
    const cfg = fp(s.resources, 'bucket-replication');
    const rule = (cfg['rule'] as Json[])[0] ?? {};
    const replicaRegion = fp(s.resources, 'replica-bucket')['region'];
    const problems: string[] = [];
    if (rule['status'] !== 'Enabled') problems.push('replication rule not enabled');
    if (replicaRegion === s.spec.region) problems.push('replica is in the same region');
    const replicaName = ((s.resources['replica-bucket']!['metadata'] as Json)['annotations'] as Json)['crossplane.io/external-name'];
    if ((rule['destination'] as Json | undefined)?.['bucket'] !== `arn:aws:s3:::${String(replicaName)}`)
      problems.push('destination is not the rendered replica');
    return problems;
  },
  'S3.8': publicAccessBlocked,
  'S3.9': (s) => {
    const log = fp(s.resources, 'bucket-logging');
    return log['targetBucket'] === s.env.audit.logBucket && typeof log['targetPrefix'] === 'string' && log['targetPrefix'] !== ''
      ? []
      : ['access logs do not go to the platform log bucket with a prefix'];
  },
  'S3.10': (s) =>
    lifecycleRule(s, 'noncurrent-versions')?.['noncurrentVersionExpiration'] ? [] : ['versioned bucket without a noncurrent-version expiration'],
  'S3.12': (s) =>
    (fp(s.resources, 'bucket-ownership-controls')['rule'] as Json)['objectOwnership'] === 'BucketOwnerEnforced' ? [] : ['ACLs are not disabled'],
  'S3.13': (s) => (lifecycleRule(s, 'abort-incomplete-multipart-uploads') ? [] : ['no enabled lifecycle rule']),
  'S3.14': (s) => ((fp(s.resources, 'bucket-versioning')['versioningConfiguration'] as Json)['status'] === 'Enabled' ? [] : ['versioning not enabled']),
  'S3.15': (s) => {
    const problems: string[] = [];
    if (fp(s.resources, 'bucket')['objectLockEnabled'] !== true) problems.push('bucket objectLockEnabled is not true');
    const dr = ((fp(s.resources, 'bucket-object-lock')['rule'] as Json | undefined)?.['defaultRetention'] ?? {}) as Json;
    if (dr['mode'] !== 'COMPLIANCE' && dr['mode'] !== 'GOVERNANCE') problems.push('no default retention mode');
    return problems;
  },
  'S3.17': kmsEncrypted,
  'S3.19': (s) =>
    Object.entries(s.resources)
      .filter(([, r]) => r['kind'] === 'AccessPoint')
      .filter(([name]) => JSON.stringify(fp(s.resources, name)['publicAccessBlockConfiguration']) !== JSON.stringify(ALL_FOUR))
      .map(([name]) => `${name} does not block public access`),
  'CIS 2.1.1': denyInsecureTransport,
  'CIS 2.1.4': publicAccessBlocked,
  'CIS 1.4.0 2.1.1': kmsEncrypted,
  'CloudWatch.8': (s) => {
    const pattern = JSON.parse(String(fp(s.resources, 'bucket-change-alerts')['eventPattern'])) as {
      detail: { eventName: string[]; requestParameters: { bucketName: string[] } };
    };
    const problems = CIS_BUCKET_POLICY_CHANGE_EVENTS.filter((e) => !pattern.detail.eventName.includes(e)).map((e) => `rule misses ${e}`);
    const bucket = String(fp(s.resources, 'bucket-public-access-block')['bucket']);
    if (JSON.stringify(pattern.detail.requestParameters.bucketName) !== JSON.stringify([bucket])) problems.push('rule is not filtered to this bucket');
    const target = fp(s.resources, 'bucket-change-alerts-target');
    const topic = s.spec.alarms?.snsTopicArn ?? s.env.alarms.snsTopicArn;
    if (target['arn'] !== topic) problems.push(`target is ${String(target['arn'])}, not the topic ${String(topic)}`);
    return problems;
  },
  'CloudWatch.15': (s) => (alarms(s).length === 3 && alarms(s).every((a) => list(a['alarmActions'] as string[]).length > 0) ? [] : ['alarms without actions']),
  'CloudWatch.17': (s) => (alarms(s).length === 3 && alarms(s).every((a) => a['actionsEnabled'] === true) ? [] : ['alarm actions not activated']),
};

// ---------------------------------------------------------------------------------------------

const rows = controlRows();
const environment = environmentConfig();
const env = readEnvironment(environment['data']);
const claims = exampleClaims();

describe('docs/controls.md', () => {
  it('lists S3.1 to S3.25 (retired and unpublished ids aside) and the CIS and CloudWatch items', () => {
    const ids = rows.map((r) => r.id);
    const s3 = ids.filter((id) => id.startsWith('S3.')).map((id) => Number(id.slice(3)));
    expect(s3).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 19, 20, 22, 23, 24, 25]);
    expect(ids).toEqual(expect.arrayContaining(['CIS 2.1.1', 'CIS 2.1.4', 'CloudWatch.8']));
  });

  it('every applicable control has a check, and every check has a row', () => {
    const applicable = rows
      .filter((r) => !r.applies.startsWith('no:'))
      .map((r) => r.id)
      .sort();
    expect(Object.keys(CHECKS).sort()).toEqual(applicable);
  });

  it('every Applies cell uses the known wording', () => {
    const bad = rows.filter((r) => !r.applies.startsWith('no:') && CONDITIONS[r.applies] === undefined).map((r) => `${r.id}: ${r.applies}`);
    expect(bad).toEqual([]);
  });
});

describe.each(claims.map((c) => [c.claim.metadata.name, c.claim] as const))('%s', (_name, claim) => {
  const spec = readSpec(compositeForClaim(claim), env.region);
  const probe: Subject = { spec, env, resources: {} };
  const applicable = rows.filter((r) => applies(r, probe));
  let subject: Subject | undefined;
  const subjectOf = async (): Promise<Subject> => (subject ??= { spec, env, resources: await renderOk(claim, environment) });

  it.each(applicable.map((r) => [r.id] as const))('%s', async (id) => {
    const check = CHECKS[id];
    const problems = check ? check(await subjectOf()) : [`no check for ${id}`];
    expect({ control: id, problems }).toEqual({ control: id, problems: [] });
  });
});

it('the checks are not vacuous: a tampered render fails them', async () => {
  const scratch = claims.find((c) => c.claim.metadata.name === 'scratch')!.claim;
  const resources = structuredClone(await renderOk(scratch, environment));
  ((resources['bucket-public-access-block']!['spec'] as Json)['forProvider'] as Json)['restrictPublicBuckets'] = false;
  const policy = fp(resources, 'bucket-policy');
  const statements = statementsOf(policy['policy']).filter((st) => st.Sid !== 'DenyInsecureTransport');
  statements.push({ Sid: 'Open', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' });
  policy['policy'] = JSON.stringify({ Version: '2012-10-17', Statement: statements });
  const subject: Subject = { spec: readSpec(compositeForClaim(scratch), env.region), env, resources };
  expect(CHECKS['S3.8']!(subject)).toEqual(['restrictPublicBuckets is not true']);
  expect(CHECKS['S3.5']!(subject)).toEqual(['no Deny of s3:* when aws:SecureTransport is false']);
  expect(CHECKS['S3.6']!(subject)).toEqual(['Open allows principals outside account 111122223333']);
});
