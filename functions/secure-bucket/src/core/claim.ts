// Reads an XSecureBucket (the XR of a claim) into a typed BucketSpec, applying the same defaults as
// the XRD. The XRD's schema and CEL reject most bad input first; this is the last line, so it
// checks everything again and names the field and the fix.
import {
  arrayAt,
  booleanAt,
  enumAt,
  integerAt,
  isObject,
  objectAt,
  rejectUnknownKeys,
  requiredString,
  stringAt,
  type Json,
} from './fields.js';
import { CLAIM_API, NAMESPACED_XR_API, TAKE_OVER_ANNOTATION, type BucketApi } from './api.js';
import { familyOf } from './family.js';
import { validateLifecycle } from './lifecycle.js';
import {
  ClaimError,
  type AccessLevel,
  type Alarms,
  type BucketSpec,
  type ClaimIdentity,
  type Consumer,
  type Lifecycle,
  type LifecycleRule,
  type ObjectLock,
  type StorageClass,
  type Transition,
} from './types.js';

export const ACCESS_LEVELS = ['Read', 'Write', 'ReadWrite'] as const;
export const STORAGE_CLASSES = ['STANDARD_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'] as const;

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Prefixes end up in IAM resource ARNs: '*', '?' and '${' would widen access, '..' confuses humans.
const PREFIX = /^([A-Za-z0-9][A-Za-z0-9_.=-]*\/)+$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$/;

/** Settings only the platform may choose: a claim naming one of them is refused. */
const PLATFORM_OWNED: Record<string, string> = {
  accountId: 'the EnvironmentConfig sets the AWS account',
  oidcIssuer: 'the EnvironmentConfig sets the cluster OIDC issuer',
  oidcProviderArn: 'the EnvironmentConfig sets the cluster OIDC issuer',
  permissionsBoundary: 'the EnvironmentConfig sets the permissions boundary',
  permissionsBoundaryArn: 'the EnvironmentConfig sets the permissions boundary',
  vpcId: 'the EnvironmentConfig sets the VPC',
  vpcEndpointId: 'the EnvironmentConfig sets the S3 endpoint',
  endpoint: 'the EnvironmentConfig sets the S3 endpoint',
  network: 'the EnvironmentConfig sets the VPC and S3 endpoint',
  identity: 'the EnvironmentConfig sets the identity mode',
  breakGlassPrincipalArns: 'the EnvironmentConfig sets the break-glass principals',
  kms: 'the function creates the bucket key',
  encryption: 'SSE-KMS with a bucket key is always on',
  publicAccess: 'public access is always blocked',
  forceDestroy: 'buckets are never force-destroyed',
};

/** Fields Crossplane itself adds to an XR's spec; they are not the tenant's request. */
export const CROSSPLANE_SPEC_FIELDS = [
  'claimRef',
  'compositionRef',
  'compositionSelector',
  'compositionRevisionRef',
  'compositionRevisionSelector',
  'compositionUpdatePolicy',
  'compositeDeletePolicy',
  'environmentConfigRefs',
  'resourceRef',
  'resourceRefs',
  'publishConnectionDetailsTo',
  'writeConnectionSecretToRef',
  'crossplane',
];

const SPEC_FIELDS = [
  'region',
  'naming',
  'tls',
  'consumers',
  'objectLock',
  'versioning',
  'lifecycle',
  'metrics',
  'alarms',
  'replication',
  ...CROSSPLANE_SPEC_FIELDS,
];

/** The other API named by the take-over annotation, if any; any other value is refused. */
function readTakeOver(metadata: Json, api: BucketApi): BucketApi | undefined {
  const annotations = objectAt(metadata['annotations'], 'metadata.annotations') ?? {};
  const field = `metadata.annotations[${TAKE_OVER_ANNOTATION}]`;
  const other = api === CLAIM_API ? NAMESPACED_XR_API : CLAIM_API;
  const value = stringAt(annotations[TAKE_OVER_ANNOTATION], field);
  if (value === undefined) return undefined;
  if (value !== other) throw new ClaimError(field, `'${value}' is not the other bucket API`, `set it to ${other} (after its request was deleted, docs/migrate-to-v2.md), or remove it`);
  return other;
}

/**
 * The claim's name and namespace: from the labels Crossplane puts on a claim's XR, or, for a
 * namespaced v2 XR, its own name and namespace. A tenant writes a v2 XR's labels itself, so claim
 * labels there that name anything else are refused: they would hand it another tenant's AWS names.
 */
export function readIdentity(xr: Json): ClaimIdentity {
  const metadata = objectAt(xr['metadata'], 'metadata', true) as Json;
  const compositeName = requiredString(metadata['name'], 'metadata.name');
  const labels = objectAt(metadata['labels'], 'metadata.labels') ?? {};
  const claimNamespace = stringAt(labels['crossplane.io/claim-namespace'], 'metadata.labels[crossplane.io/claim-namespace]');
  const claimName = stringAt(labels['crossplane.io/claim-name'], 'metadata.labels[crossplane.io/claim-name]');
  if (familyOf(xr) === 'Namespaced') {
    const namespace = requiredString(metadata['namespace'], 'metadata.namespace');
    if ((claimNamespace !== undefined && claimNamespace !== namespace) || (claimName !== undefined && claimName !== compositeName)) {
      throw new ClaimError(
        'metadata.labels',
        `a namespaced XSecureBucket is its own claim, but its crossplane.io/claim-name and claim-namespace labels name ${String(claimNamespace)}/${String(claimName)}`,
        'remove the crossplane.io/claim-* labels: the bucket belongs to the XR\'s own namespace and name',
      );
    }
    return withTakeOver({ compositeName, claimName: compositeName, claimNamespace: namespace, api: NAMESPACED_XR_API }, metadata);
  }
  if (claimNamespace === undefined || claimName === undefined) {
    // Without a namespace there is no tenant to scope service accounts to: refuse rather than guess.
    throw new ClaimError(
      'metadata.labels',
      'this XSecureBucket has no crossplane.io/claim-namespace and claim-name labels',
      'create buckets through an XSecureBucketClaim, or a namespaced XSecureBucket (storage.platform.example.org), in the team namespace; not a bare cluster-scoped XSecureBucket',
    );
  }
  return withTakeOver({ compositeName, claimName, claimNamespace, api: CLAIM_API }, metadata);
}

function withTakeOver(identity: ClaimIdentity, metadata: Json): ClaimIdentity {
  const takeOverFrom = readTakeOver(metadata, identity.api);
  return takeOverFrom === undefined ? identity : { ...identity, takeOverFrom };
}

export function readSpec(xr: Json, defaultRegion: string): BucketSpec {
  const spec = objectAt(xr['spec'], 'spec', true) as Json;
  rejectUnknownKeys(spec, 'spec', SPEC_FIELDS, PLATFORM_OWNED);
  const region = stringAt(spec['region'], 'spec.region', { pattern: REGION, hint: 'use an AWS region such as us-east-1' }) ?? defaultRegion;
  const consumers = readConsumers(spec['consumers']);
  const objectLock = readObjectLock(spec['objectLock'], consumers);
  const out: BucketSpec = {
    region,
    naming: readNaming(spec['naming']),
    tls: { minimumVersion: readTls(spec['tls']) },
    consumers,
    versioning: enumAt(spec['versioning'], 'spec.versioning', ['Auto', 'Enabled'] as const, 'Auto'),
    lifecycle: readLifecycle(spec['lifecycle']),
    metrics: booleanAt(spec['metrics'], 'spec.metrics', false),
  };
  if (objectLock) out.objectLock = objectLock;
  const alarms = readAlarms(spec['alarms']);
  if (alarms) out.alarms = alarms;
  const replication = objectAt(spec['replication'], 'spec.replication');
  if (replication) {
    rejectUnknownKeys(replication, 'spec.replication', ['destinationRegion']);
    const destinationRegion = requiredString(replication['destinationRegion'], 'spec.replication.destinationRegion', {
      pattern: REGION,
      hint: 'use an AWS region such as eu-west-1',
    });
    if (destinationRegion === region) {
      throw new ClaimError('spec.replication.destinationRegion', `is the bucket's own region ${region}`, 'name another region, or remove spec.replication');
    }
    out.replication = { destinationRegion };
  }
  validateLifecycle(out);
  return out;
}

function readNaming(value: unknown): BucketSpec['naming'] {
  const naming = objectAt(value, 'spec.naming');
  if (!naming) return { strategy: 'Generated' };
  rejectUnknownKeys(naming, 'spec.naming', ['strategy', 'name']);
  const strategy = enumAt(naming['strategy'], 'spec.naming.strategy', ['Generated', 'Fixed'] as const, 'Generated');
  if (strategy === 'Generated') {
    if (naming['name'] !== undefined) {
      throw new ClaimError('spec.naming.name', 'is only used with strategy Fixed', 'remove spec.naming.name or set spec.naming.strategy: Fixed');
    }
    return { strategy };
  }
  const name = requiredString(naming['name'], 'spec.naming.name', {
    pattern: BUCKET_NAME,
    hint: 'use 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit (no dots)',
  });
  for (const bad of ['xn--', 'sthree-', 'amzn-s3-demo-']) {
    if (name.startsWith(bad)) throw new ClaimError('spec.naming.name', `must not start with '${bad}' (reserved by S3)`, 'choose another name');
  }
  for (const bad of ['-s3alias', '--ol-s3', '--x-s3', '--table-s3']) {
    if (name.endsWith(bad)) throw new ClaimError('spec.naming.name', `must not end with '${bad}' (reserved by S3)`, 'choose another name');
  }
  return { strategy, name };
}

function readTls(value: unknown): '1.2' | '1.3' {
  const tls = objectAt(value, 'spec.tls');
  if (!tls) return '1.2';
  rejectUnknownKeys(tls, 'spec.tls', ['minimumVersion']);
  return enumAt(tls['minimumVersion'], 'spec.tls.minimumVersion', ['1.2', '1.3'] as const, '1.2');
}

/** A consumer name the platform keeps for itself. */
export const RESERVED_CONSUMER_NAME = 'replication';

function readConsumers(value: unknown): Consumer[] {
  const seen = new Set<string>();
  return arrayAt(value, 'spec.consumers', 20).map((raw, i) => {
    const field = `spec.consumers[${i}]`;
    const c = objectAt(raw, field, true) as Json;
    rejectUnknownKeys(c, field, ['name', 'serviceAccount', 'access', 'prefixes', 'accessPoint'], {
      namespace: 'a consumer is always in the claim’s own namespace',
      roleArn: 'the function creates the consumer role',
    });
    const name = requiredString(c['name'], `${field}.name`, { pattern: DNS_LABEL, max: 40, hint: 'use lowercase letters, digits and hyphens' });
    if (seen.has(name)) throw new ClaimError(`${field}.name`, `'${name}' is used by another consumer`, 'give every consumer its own name');
    // The replication role's name is built like a consumer role named 'replication' (naming.ts).
    if (name === RESERVED_CONSUMER_NAME) throw new ClaimError(`${field}.name`, `'${name}' is reserved for the bucket's replication role`, 'give the consumer another name');
    seen.add(name);
    const serviceAccount = requiredString(c['serviceAccount'], `${field}.serviceAccount`, {
      pattern: DNS_SUBDOMAIN,
      max: 253,
      hint: "name a ServiceAccount of the claim's own namespace (just its name: no 'namespace:' or 'system:serviceaccount:' prefix)",
    });
    const prefixes = arrayAt(c['prefixes'], `${field}.prefixes`, 10).map((p, j) =>
      requiredString(p, `${field}.prefixes[${j}]`, {
        pattern: PREFIX,
        max: 256,
        hint: "write a key prefix ending in '/', e.g. 'sales_event/', with no leading '/', no '*', '?' or '$'",
      }),
    );
    if (prefixes.length === 0) throw new ClaimError(`${field}.prefixes`, 'is empty', "list the key prefixes this consumer may use, e.g. ['reports/']");
    const access: AccessLevel = enumAt(c['access'], `${field}.access`, ACCESS_LEVELS);
    return { name, serviceAccount, access, prefixes: [...new Set(prefixes)], accessPoint: booleanAt(c['accessPoint'], `${field}.accessPoint`, false) };
  });
}

function readObjectLock(value: unknown, consumers: Consumer[]): ObjectLock | undefined {
  const lock = objectAt(value, 'spec.objectLock');
  if (!lock) return undefined;
  rejectUnknownKeys(lock, 'spec.objectLock', ['mode', 'days', 'years', 'governanceBypassConsumers']);
  const mode = enumAt(lock['mode'], 'spec.objectLock.mode', ['Compliance', 'Governance'] as const);
  const days = integerAt(lock['days'], 'spec.objectLock.days', 1, 36500);
  const years = integerAt(lock['years'], 'spec.objectLock.years', 1, 100);
  if ((days === undefined) === (years === undefined)) {
    throw new ClaimError('spec.objectLock', 'needs exactly one of days or years', 'set spec.objectLock.days or spec.objectLock.years, not both');
  }
  const bypass = arrayAt(lock['governanceBypassConsumers'], 'spec.objectLock.governanceBypassConsumers', 20).map((n, i) =>
    requiredString(n, `spec.objectLock.governanceBypassConsumers[${i}]`),
  );
  if (bypass.length > 0 && mode !== 'Governance') {
    throw new ClaimError('spec.objectLock.governanceBypassConsumers', 'nobody can bypass Compliance mode', 'remove governanceBypassConsumers or use mode Governance');
  }
  bypass.forEach((n, i) => {
    if (!consumers.some((c) => c.name === n)) {
      throw new ClaimError(`spec.objectLock.governanceBypassConsumers[${i}]`, `'${n}' is not a consumer of this claim`, 'name a consumer from spec.consumers');
    }
  });
  const out: ObjectLock = { mode, governanceBypassConsumers: bypass };
  if (days !== undefined) out.days = days;
  if (years !== undefined) out.years = years;
  return out;
}

function readTransitions(value: unknown, field: string): Transition[] {
  return arrayAt(value, field, 5).map((raw, i) => {
    const t = objectAt(raw, `${field}[${i}]`, true) as Json;
    rejectUnknownKeys(t, `${field}[${i}]`, ['days', 'storageClass']);
    const days = integerAt(t['days'], `${field}[${i}].days`, 0, 36500);
    if (days === undefined) throw new ClaimError(`${field}[${i}].days`, 'is required', 'set the age in days at which objects move');
    const storageClass: StorageClass = enumAt(t['storageClass'], `${field}[${i}].storageClass`, STORAGE_CLASSES);
    return { days, storageClass };
  });
}

function readLifecycle(value: unknown): Lifecycle {
  const lc = objectAt(value, 'spec.lifecycle') ?? {};
  rejectUnknownKeys(lc, 'spec.lifecycle', ['transitions', 'expireAfterDays', 'noncurrentVersionExpireAfterDays', 'abortIncompleteMultipartUploadDays', 'rules']);
  const out: Lifecycle = {
    transitions: readTransitions(lc['transitions'], 'spec.lifecycle.transitions'),
    abortIncompleteMultipartUploadDays: integerAt(lc['abortIncompleteMultipartUploadDays'], 'spec.lifecycle.abortIncompleteMultipartUploadDays', 1, 365) ?? 7,
    rules: arrayAt(lc['rules'], 'spec.lifecycle.rules', 20).map((raw, i) => readRule(raw, `spec.lifecycle.rules[${i}]`)),
  };
  const expire = integerAt(lc['expireAfterDays'], 'spec.lifecycle.expireAfterDays', 1, 36500);
  if (expire !== undefined) out.expireAfterDays = expire;
  const noncurrent = integerAt(lc['noncurrentVersionExpireAfterDays'], 'spec.lifecycle.noncurrentVersionExpireAfterDays', 1, 36500);
  if (noncurrent !== undefined) out.noncurrentVersionExpireAfterDays = noncurrent;
  return out;
}

function readRule(raw: unknown, field: string): LifecycleRule {
  const r = objectAt(raw, field, true) as Json;
  rejectUnknownKeys(r, field, ['name', 'prefix', 'transitions', 'expireAfterDays']);
  const rule: LifecycleRule = {
    name: requiredString(r['name'], `${field}.name`, { pattern: DNS_LABEL, max: 63, hint: 'use lowercase letters, digits and hyphens' }),
    prefix: requiredString(r['prefix'], `${field}.prefix`, { pattern: PREFIX, max: 256, hint: "write a key prefix ending in '/'" }),
    transitions: readTransitions(r['transitions'], `${field}.transitions`),
  };
  const expire = integerAt(r['expireAfterDays'], `${field}.expireAfterDays`, 1, 36500);
  if (expire !== undefined) rule.expireAfterDays = expire;
  return rule;
}

function readAlarms(value: unknown): Alarms | undefined {
  const a = objectAt(value, 'spec.alarms');
  if (!a) return undefined;
  rejectUnknownKeys(a, 'spec.alarms', ['email', 'snsTopicArn']);
  const email = stringAt(a['email'], 'spec.alarms.email', { pattern: EMAIL, max: 254, hint: 'write an email address' });
  const snsTopicArn = stringAt(a['snsTopicArn'], 'spec.alarms.snsTopicArn', { pattern: SNS_TOPIC_ARN, hint: 'write an SNS topic ARN' });
  if (email !== undefined && snsTopicArn !== undefined) {
    throw new ClaimError('spec.alarms', 'sets both email and snsTopicArn', 'keep one of spec.alarms.email or spec.alarms.snsTopicArn');
  }
  const out: Alarms = {};
  if (email !== undefined) out.email = email;
  if (snsTopicArn !== undefined) out.snsTopicArn = snsTopicArn;
  return out;
}

export { isObject };
