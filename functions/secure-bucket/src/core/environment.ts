// Reads the platform's EnvironmentConfig `data` into PlatformEnvironment. A mistake here is the
// platform team's, so the error names the EnvironmentConfig field, not the claim.
import { arrayAt, enumAt, objectAt, requiredString, stringAt, integerAt, type Json } from './fields.js';
import { ACCESS_POINT_NAME_ROOM, BUCKET_NAME_ROOM, ROLE_NAME_ROOM } from './naming.js';
import { ClaimError, PlatformError, type PlatformEnvironment } from './types.js';

const ACCOUNT = /^[0-9]{12}$/;
const IAM_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user|policy|root)(\/[\w+=,.@/-]+)?$/;
const PATH = /^\/([\w+=,.@-]+\/)*$/;

/** The tenant a render is for, and whether its XR already made AWS names: collision fixes then name the other. */
export interface TenantHint {
  namespace: string;
  existing: boolean;
}

export function readEnvironment(data: unknown, where = 'EnvironmentConfig data', hint?: TenantHint): PlatformEnvironment {
  // The field readers of fields.ts refuse with ClaimError; here every refusal is the platform team's to fix.
  try {
    return readEnvironmentData(data, where, hint);
  } catch (err) {
    if (err instanceof ClaimError) throw new PlatformError(err.field, err.problem, err.fix);
    throw err;
  }
}

function readEnvironmentData(data: unknown, where: string, hint?: TenantHint): PlatformEnvironment {
  const d = objectAt(data, where, true) as Json;
  const f = (path: string) => `${where}.${path}`;
  const identity = objectAt(d['identity'], f('identity'), true) as Json;
  const network = objectAt(d['network'], f('network'), true) as Json;
  const endpoint = objectAt(network['endpoint'], f('network.endpoint'), true) as Json;
  const kms = objectAt(d['kms'], f('kms')) ?? {};
  const access = objectAt(d['access'], f('access'), true) as Json;
  const audit = objectAt(d['audit'], f('audit')) ?? {};
  const alarms = objectAt(d['alarms'], f('alarms')) ?? {};
  const arns = (value: unknown, path: string) =>
    arrayAt(value, f(path), 50).map((v, i) => requiredString(v, `${f(path)}[${i}]`, { pattern: IAM_ARN, hint: 'use an IAM role or user ARN' }));

  const mode = enumAt(identity['mode'], f('identity.mode'), ['IRSA', 'PodIdentity'] as const);
  const oidcIssuer = stringAt(identity['oidcIssuer'], f('identity.oidcIssuer'), {
    pattern: /^[a-z0-9.-]+(\/[A-Za-z0-9._-]+)*$/,
    hint: 'write the issuer without https://, e.g. oidc.eks.us-east-1.amazonaws.com/id/ABC',
  });
  if (mode === 'IRSA' && oidcIssuer === undefined) {
    throw new PlatformError(f('identity.oidcIssuer'), 'is required when identity.mode is IRSA', 'set the cluster OIDC issuer or use mode PodIdentity');
  }
  const endpointMode = enumAt(endpoint['mode'], f('network.endpoint.mode'), ['Shared', 'Dedicated'] as const);
  const env: PlatformEnvironment = {
    accountId: requiredString(d['accountId'], f('accountId'), { pattern: ACCOUNT, hint: 'use the 12-digit account id' }),
    partition: stringAt(d['partition'], f('partition'), { pattern: /^aws(-[a-z-]+)?$/ }) ?? 'aws',
    region: requiredString(d['region'], f('region'), { pattern: /^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/ }),
    clusterName: requiredString(d['clusterName'], f('clusterName'), { pattern: /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/ }),
    bucketNamePrefix: requiredString(d['bucketNamePrefix'], f('bucketNamePrefix'), { pattern: /^[a-z0-9][a-z0-9-]{0,19}$/ }),
    identity: {
      mode,
      permissionsBoundaryArn: requiredString(identity['permissionsBoundaryArn'], f('identity.permissionsBoundaryArn'), { pattern: IAM_ARN }),
      rolePath: stringAt(identity['rolePath'], f('identity.rolePath'), { pattern: PATH, hint: "start and end the path with '/'" }) ?? '/',
    },
    network: {
      vpcId: requiredString(network['vpcId'], f('network.vpcId'), { pattern: /^vpc-[0-9a-f]{8,17}$/ }),
      endpoint:
        endpointMode === 'Shared'
          ? { mode: 'Shared', id: requiredString(endpoint['id'], f('network.endpoint.id'), { pattern: /^vpce-[0-9a-f]{8,17}$/ }) }
          : {
              mode: 'Dedicated',
              routeTableIds: arrayAt(endpoint['routeTableIds'], f('network.endpoint.routeTableIds'), 50).map((v, i) =>
                requiredString(v, `${f('network.endpoint.routeTableIds')}[${i}]`, { pattern: /^rtb-[0-9a-f]{8,17}$/ }),
              ),
            },
    },
    kms: {
      keyAdminArns: arns(kms['keyAdminArns'], 'kms.keyAdminArns'),
      deletionWindowInDays: integerAt(kms['deletionWindowInDays'], f('kms.deletionWindowInDays'), 7, 30) ?? 30,
    },
    access: {
      breakGlassPrincipalArns: arns(access['breakGlassPrincipalArns'], 'access.breakGlassPrincipalArns'),
      providerRoleArn: requiredString(access['providerRoleArn'], f('access.providerRoleArn'), { pattern: IAM_ARN }),
    },
    tenants: {},
    audit: { logBucketsByRegion: {} },
    alarms: {},
  };
  env.tenants = readTenants(objectAt(d['tenants'], f('tenants'), true) as Json, env, f('tenants'), hint);
  if (oidcIssuer !== undefined) env.identity.oidcIssuer = oidcIssuer;
  // Only in hashes and an exact-match tag, never in a readable name: ids that are hyphen-prefixes
  // of each other ('blue', 'blue-2') still never meet.
  const installationId = stringAt(d['installationId'], f('installationId'), {
    pattern: DNS_LABEL,
    hint: 'use lowercase letters, digits and inner hyphens, e.g. staging-2',
  });
  if (installationId !== undefined) env.installationId = installationId;
  const nodeRoleArn = stringAt(access['nodeRoleArn'], f('access.nodeRoleArn'), { pattern: IAM_ARN });
  if (nodeRoleArn !== undefined) env.access.nodeRoleArn = nodeRoleArn;
  const bucketRule = { pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/ };
  const logBucket = stringAt(audit['logBucket'], f('audit.logBucket'), bucketRule);
  if (logBucket !== undefined) env.audit.logBucket = logBucket;
  const byRegion = objectAt(audit['logBucketsByRegion'], f('audit.logBucketsByRegion')) ?? {};
  for (const [region, bucket] of Object.entries(byRegion)) {
    const at = f(`audit.logBucketsByRegion.${region}`);
    if (!/^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/.test(region))
      throw new PlatformError(at, `'${region}' is not an AWS region`, 'key each log bucket by its region, e.g. eu-west-1');
    env.audit.logBucketsByRegion[region] = requiredString(bucket, at, bucketRule);
  }
  const inventoryBucket = stringAt(audit['inventoryBucket'], f('audit.inventoryBucket'), bucketRule);
  if (inventoryBucket !== undefined) env.audit.inventoryBucket = inventoryBucket;
  const topic = stringAt(alarms['snsTopicArn'], f('alarms.snsTopicArn'), { pattern: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$/ });
  if (topic !== undefined) env.alarms.snsTopicArn = topic;
  const topicsByRegion = objectAt(alarms['snsTopicArnsByRegion'], f('alarms.snsTopicArnsByRegion')) ?? {};
  for (const [region, arn] of Object.entries(topicsByRegion)) {
    const at = f(`alarms.snsTopicArnsByRegion.${region}`);
    const value = requiredString(arn, at, { pattern: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$/ });
    const [, , , inRegion, account] = value.split(':');
    // EventBridge targets a topic of its own region; another account's topic would receive the alerts.
    if (inRegion !== region || account !== env.accountId)
      throw new PlatformError(
        at,
        `'${value}' is not a topic of account ${env.accountId} in ${region}`,
        `name the platform's alert topic of account ${env.accountId} in ${region}`,
      );
    (env.alarms.snsTopicArnsByRegion ??= {})[region] = value;
  }
  if (env.network.endpoint.mode === 'Dedicated' && env.network.endpoint.routeTableIds.length === 0) {
    throw new PlatformError(
      f('network.endpoint.routeTableIds'),
      'is empty: a dedicated endpoint needs a route table',
      'list the route tables of the VPC that should reach S3',
    );
  }
  return env;
}

/** A namespace, and a name segment: a DNS label, as Kubernetes namespaces are. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The cut points of the length-limited names (naming.ts): the part of each name that says whose it
 * is must survive the cut, or two tenants' long names could meet after it.
 */
function namePrefixesOf(
  env: Pick<PlatformEnvironment, 'bucketNamePrefix' | 'clusterName'>,
  segment: string,
): Array<{ what: string; prefix: string; room: number }> {
  return [
    { what: 'bucket names', prefix: `${env.bucketNamePrefix}-${segment}-`, room: BUCKET_NAME_ROOM },
    { what: 'IAM role names', prefix: `${env.clusterName}-${segment}-`, room: ROLE_NAME_ROOM },
    { what: 'access point names', prefix: `${segment}-`, room: ACCESS_POINT_NAME_ROOM },
  ];
}

function readTenants(
  tenants: Json,
  env: Pick<PlatformEnvironment, 'bucketNamePrefix' | 'clusterName'>,
  where: string,
  hint?: TenantHint,
): Record<string, { nameSegment: string }> {
  const out: Record<string, { nameSegment: string }> = {};
  const entries = Object.entries(tenants);
  if (entries.length === 0)
    throw new PlatformError(where, 'lists no tenant', 'register each tenant namespace under tenants (clusters/README.md, "Add a tenant")');
  for (const [namespace, value] of entries) {
    const at = `${where}.${namespace}`;
    if (!DNS_LABEL.test(namespace)) throw new PlatformError(where, `'${namespace}' is not a namespace name`, 'use the tenant namespace as the key');
    const entry = value === null ? {} : (objectAt(value, at, true) as Json);
    const nameSegment =
      stringAt(entry['nameSegment'], `${at}.nameSegment`, { pattern: DNS_LABEL, hint: 'use lowercase letters, digits and inner hyphens' }) ?? namespace;
    for (const { what, prefix, room } of namePrefixesOf(env, nameSegment)) {
      if (prefix.length > room) {
        throw new PlatformError(
          `${at}.nameSegment`,
          `'${nameSegment}' makes ${what} start with '${prefix}', longer than the ${room} characters kept before a long name is cut`,
          'give the tenant a shorter nameSegment',
        );
      }
    }
    out[namespace] = { nameSegment };
  }
  // Sorted, a segment's hyphen-extensions follow it directly ('-' sorts before every other
  // character a segment may hold), so neighbours are the only pairs to check: n log n, not n².
  const bySegment = Object.entries(out).sort(([, x], [, y]) => (x.nameSegment < y.nameSegment ? -1 : x.nameSegment > y.nameSegment ? 1 : 0));
  for (let i = 1; i < bySegment.length; i++) {
    const [a, { nameSegment: sa }] = bySegment[i - 1]!;
    const [b, { nameSegment: sb }] = bySegment[i]!;
    // 'team' and 'team-sales': 'team's names would start like 'team-sales's names do.
    if (sa === sb || sb.startsWith(`${sa}-`)) {
      // Renaming the tenant whose buckets exist moves its names away from its data: the fix is
      // always the newly added tenant's. Which one is new, this render's XR can tell when it is one of them.
      const mine = hint !== undefined && (hint.namespace === a || hint.namespace === b) ? hint.namespace : undefined;
      const added = mine === undefined ? undefined : hint!.existing ? (mine === a ? b : a) : mine;
      const clash =
        sa === sb
          ? `'${sa}' is the name segment of both ${a} and ${b}`
          : `'${sa}' (${a}) is a hyphen-prefix of ${b}'s segment '${sb}': their names could be equal`;
      const example = (ns: string) => `'${out[ns]!.nameSegment}0'`;
      throw new PlatformError(
        `${where}.${added ?? a}.nameSegment`,
        clash,
        added !== undefined
          ? `give the newly added tenant ${added} its own nameSegment (e.g. ${example(added)}), neither equal to nor a hyphen-prefix of another's; never change ${added === a ? b : a}'s: its AWS names would move away from its data`
          : `give whichever of ${a} and ${b} was added last (the one without buckets yet) its own nameSegment (e.g. ${example(b)} for ${b}); never change the segment of a tenant that has buckets: its AWS names would move away from its data`,
      );
    }
  }
  return out;
}
