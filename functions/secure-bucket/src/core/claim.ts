// Reads an XSecureBucket (the XR of a claim) into a typed BucketSpec, applying the same defaults as
// the XRD. The XRD's schema and CEL reject most bad input first; this is the last line, so it
// checks everything again, with the schema's own limits (claim-api.generated.ts), and reports every
// mistake of the spec at once, each with its field and fix.
import { CLAIM_FIELDS, ENUMS, limitsOf, type ClaimField } from './claim-api.generated.js';
import { arrayAt, booleanAt, enumAt, integerAt, isObject, objectAt, rejectUnknownKeys, requiredString, stringAt, type Json } from './fields.js';
import { CLAIM_API, NAMESPACED_XR_API, TAKE_OVER_ANNOTATION, type BucketApi } from './api.js';
import { familyOf } from './family.js';
import { RESERVED_CONSUMER_NAME, RESERVED_RULE_IDS, ruleProblems, versioningRequired } from './spec-rules.js';
import {
  ClaimError,
  ClaimErrors,
  type Alarms,
  type BucketSpec,
  type ClaimIdentity,
  type Consumer,
  type Lifecycle,
  type LifecycleRule,
  type ObjectLock,
  type Transition,
} from './types.js';

export const ACCESS_LEVELS = ENUMS.AccessLevel;
export const STORAGE_CLASSES = ENUMS.StorageClass;
export { RESERVED_CONSUMER_NAME };

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

/** The spec's own fields (from the schema) and those Crossplane adds. */
const SPEC_FIELDS = [...new Set((Object.keys(CLAIM_FIELDS) as ClaimField[]).map((k) => k.split('.')[1]!.replace(/\[\]$/, ''))), ...CROSSPLANE_SPEC_FIELDS];

/** The other API named by the take-over annotation, if any; any other value is refused. */
function readTakeOver(metadata: Json, api: BucketApi): BucketApi | undefined {
  const annotations = objectAt(metadata['annotations'], 'metadata.annotations') ?? {};
  const field = `metadata.annotations[${TAKE_OVER_ANNOTATION}]`;
  const other = api === CLAIM_API ? NAMESPACED_XR_API : CLAIM_API;
  const value = stringAt(annotations[TAKE_OVER_ANNOTATION], field);
  if (value === undefined) return undefined;
  if (value !== other)
    throw new ClaimError(
      field,
      `'${value}' is not the other bucket API`,
      `set it to ${other} (after its request was deleted, docs/migrate-to-v2.md), or remove it`,
    );
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
        "remove the crossplane.io/claim-* labels: the bucket belongs to the XR's own namespace and name",
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

/** A field's schema limits as the readers of fields.ts take them (patterns compiled once, at load). */
const PATTERNS: Readonly<Record<string, RegExp>> = Object.fromEntries(
  (Object.keys(CLAIM_FIELDS) as ClaimField[]).flatMap((k) => {
    const pattern = limitsOf(k).pattern;
    return pattern === undefined ? [] : [[k, new RegExp(pattern)] as const];
  }),
);
function textRule(path: ClaimField, hint?: string): { pattern?: RegExp; min?: number; max?: number; hint?: string } {
  const f = limitsOf(path);
  const out: { pattern?: RegExp; min?: number; max?: number; hint?: string } = {};
  const pattern = PATTERNS[path];
  if (pattern) out.pattern = pattern;
  if (f.minLength !== undefined) out.min = f.minLength;
  if (f.maxLength !== undefined) out.max = f.maxLength;
  if (hint !== undefined) out.hint = hint;
  return out;
}
function intAt(value: unknown, field: string, path: ClaimField): number | undefined {
  const f = limitsOf(path);
  return integerAt(value, field, f.minimum ?? Number.MIN_SAFE_INTEGER, f.maximum ?? Number.MAX_SAFE_INTEGER);
}
function listAt(value: unknown, field: string, path: ClaimField): unknown[] {
  const f = limitsOf(path);
  return arrayAt(value, field, f.maxItems ?? Number.MAX_SAFE_INTEGER);
}

/** Collects the tenant's mistakes: each read that fails is recorded and replaced by a stand-in, so the rest is still read. */
class Problems {
  readonly list: ClaimError[] = [];
  /** Problems past MAX_PROBLEMS, counted, not listed: a spec of 100,000 unknown keys must not make a Fatal of megabytes. */
  omitted = 0;
  take<T>(read: () => T, standIn: T): T {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof ClaimError)) throw err;
      for (const e of err instanceof ClaimErrors ? err.problems : [err]) this.push(e);
      return standIn;
    }
  }
  add(field: string, problem: string, fix: string): void {
    this.push(new ClaimError(field, problem, fix));
  }
  push(e: ClaimError): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push(e);
    else this.omitted++;
  }
  /** The list, with one last line for those not listed. */
  all(): ClaimError[] {
    if (this.omitted === 0) return this.list;
    return [...this.list, new ClaimError('spec', `has ${this.omitted} more problems not listed here`, 'fix those above and apply again')];
  }
}

/** The most problems one Fatal lists (a schema-valid claim with every field wrong has fewer). */
export const MAX_PROBLEMS = 100;

/**
 * Every problem of the spec alone (no platform settings, no AWS state), in one pass: the tenant
 * gets them all in one Fatal. Empty: the spec is valid and `spec` is its typed, defaulted form.
 */
export function validateSpec(xr: Json, defaultRegion: string): { spec: BucketSpec; problems: ClaimError[] } {
  const p = new Problems();
  const spec = p.take(() => objectAt(xr['spec'], 'spec', true) as Json, {});
  p.take(() => rejectUnknownKeysAll(spec, p), undefined);
  const region =
    p.take(() => stringAt(spec['region'], 'spec.region', textRule('spec.region', 'use an AWS region such as us-east-1')), undefined) ?? defaultRegion;
  const consumers = readConsumers(spec['consumers'], p);
  const out: BucketSpec = {
    region,
    naming: readNaming(spec['naming'], p),
    tls: { minimumVersion: p.take(() => readTls(spec['tls']), '1.2') },
    consumers,
    versioning: p.take(() => enumAt(spec['versioning'], 'spec.versioning', ENUMS.Versioning, 'Auto'), 'Auto'),
    lifecycle: readLifecycle(spec['lifecycle'], p),
    metrics: p.take(() => booleanAt(spec['metrics'], 'spec.metrics', false), false),
  };
  const objectLock = readObjectLock(spec['objectLock'], consumers, p);
  if (objectLock) out.objectLock = objectLock;
  const alarms = p.take(() => readAlarms(spec['alarms']), undefined);
  if (alarms) out.alarms = alarms;
  const replication = p.take(() => objectAt(spec['replication'], 'spec.replication'), undefined);
  if (replication) {
    p.take(() => rejectUnknownKeys(replication, 'spec.replication', ['destinationRegion']), undefined);
    const destinationRegion = p.take(
      () =>
        requiredString(
          replication['destinationRegion'],
          'spec.replication.destinationRegion',
          textRule('spec.replication.destinationRegion', 'use an AWS region such as eu-west-1'),
        ),
      undefined,
    );
    if (destinationRegion !== undefined) {
      if (destinationRegion === region)
        p.add('spec.replication.destinationRegion', `is the bucket's own region ${region}`, 'name another region, or remove spec.replication');
      out.replication = { destinationRegion };
    }
  }
  for (const problem of ruleProblems(out.lifecycle, versioningRequired({ spec: out }))) p.push(problem);
  return { spec: out, problems: p.all() };
}

/** The spec, or every problem of it in one ClaimErrors. */
export function readSpec(xr: Json, defaultRegion: string): BucketSpec {
  const { spec, problems } = validateSpec(xr, defaultRegion);
  if (problems.length > 0) throw new ClaimErrors(problems);
  return spec;
}

function rejectUnknownKeysAll(spec: Json, p: Problems): void {
  // One problem per unknown key, not only the first.
  for (const key of Object.keys(spec)) p.take(() => rejectUnknownKeys({ [key]: spec[key] }, 'spec', SPEC_FIELDS, PLATFORM_OWNED), undefined);
}

function readNaming(value: unknown, p: Problems): BucketSpec['naming'] {
  const naming = p.take(() => objectAt(value, 'spec.naming'), undefined);
  if (!naming) return { strategy: 'Generated' };
  p.take(() => rejectUnknownKeys(naming, 'spec.naming', ['strategy', 'name']), undefined);
  const strategy = p.take(() => enumAt(naming['strategy'], 'spec.naming.strategy', ENUMS.NamingStrategy, 'Generated'), 'Generated');
  if (strategy === 'Generated') {
    if (naming['name'] !== undefined)
      p.add('spec.naming.name', 'is only used with strategy Fixed', 'remove spec.naming.name or set spec.naming.strategy: Fixed');
    return { strategy };
  }
  const name = p.take(
    () =>
      requiredString(
        naming['name'],
        'spec.naming.name',
        textRule('spec.naming.name', 'use 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit (no dots)'),
      ),
    undefined,
  );
  if (name === undefined) return { strategy: 'Generated' };
  for (const bad of ['xn--', 'sthree-', 'amzn-s3-demo-']) {
    if (name.startsWith(bad)) p.add('spec.naming.name', `must not start with '${bad}' (reserved by S3)`, 'choose another name');
  }
  for (const bad of ['-s3alias', '--ol-s3', '--x-s3', '--table-s3']) {
    if (name.endsWith(bad)) p.add('spec.naming.name', `must not end with '${bad}' (reserved by S3)`, 'choose another name');
  }
  return { strategy, name };
}

function readTls(value: unknown): '1.2' | '1.3' {
  const tls = objectAt(value, 'spec.tls');
  if (!tls) return '1.2';
  rejectUnknownKeys(tls, 'spec.tls', ['minimumVersion']);
  return enumAt(tls['minimumVersion'], 'spec.tls.minimumVersion', ENUMS.TlsVersion, '1.2');
}

/** Refuses a list-type set's repeated entries, as the apiserver does. */
function uniqueEntries(values: string[], field: string, p: Problems): string[] {
  values.forEach((v, j) => {
    if (values.indexOf(v) !== j) p.add(`${field}[${j}]`, `'${v}' is listed twice`, 'list each entry once');
  });
  return [...new Set(values)];
}

function readConsumers(value: unknown, p: Problems): Consumer[] {
  const seen = new Set<string>();
  const out: Consumer[] = [];
  p.take(() => listAt(value, 'spec.consumers', 'spec.consumers'), []).forEach((raw, i) => {
    const field = `spec.consumers[${i}]`;
    const c = p.take(() => objectAt(raw, field, true) as Json, undefined);
    if (!c) return;
    p.take(
      () =>
        rejectUnknownKeys(c, field, ['name', 'serviceAccount', 'access', 'prefixes', 'accessPoint'], {
          namespace: 'a consumer is always in the claim’s own namespace',
          roleArn: 'the function creates the consumer role',
        }),
      undefined,
    );
    const name = p.take(() => requiredString(c['name'], `${field}.name`, textRule('spec.consumers[].name', 'use lowercase letters, digits and hyphens')), '');
    if (seen.has(name)) p.add(`${field}.name`, `'${name}' is used by another consumer`, 'give every consumer its own name');
    // The replication role's name is built like a consumer role named 'replication' (naming.ts).
    if (name === RESERVED_CONSUMER_NAME) p.add(`${field}.name`, `'${name}' is reserved for the bucket's replication role`, 'give the consumer another name');
    seen.add(name);
    const serviceAccount = p.take(
      () =>
        requiredString(
          c['serviceAccount'],
          `${field}.serviceAccount`,
          textRule(
            'spec.consumers[].serviceAccount',
            "name a ServiceAccount of the claim's own namespace (just its name: no 'namespace:' or 'system:serviceaccount:' prefix)",
          ),
        ),
      '',
    );
    const prefixes = p
      .take(() => listAt(c['prefixes'], `${field}.prefixes`, 'spec.consumers[].prefixes'), [])
      .map((raw, j) =>
        p.take(
          () =>
            requiredString(
              raw,
              `${field}.prefixes[${j}]`,
              textRule('spec.consumers[].prefixes[]', "write a key prefix ending in '/', e.g. 'sales_event/', with no leading '/', no '*', '?' or '$'"),
            ),
          '',
        ),
      );
    if (prefixes.length === 0 && Array.isArray(c['prefixes'] ?? []))
      p.add(`${field}.prefixes`, 'is empty', "list the key prefixes this consumer may use, e.g. ['reports/']");
    const access = p.take(() => enumAt(c['access'], `${field}.access`, ACCESS_LEVELS), 'Read');
    const accessPoint = p.take(() => booleanAt(c['accessPoint'], `${field}.accessPoint`, false), false);
    out.push({ name, serviceAccount, access, prefixes: uniqueEntries(prefixes, `${field}.prefixes`, p), accessPoint });
  });
  return out;
}

function readObjectLock(value: unknown, consumers: Consumer[], p: Problems): ObjectLock | undefined {
  const lock = p.take(() => objectAt(value, 'spec.objectLock'), undefined);
  if (!lock) return undefined;
  p.take(() => rejectUnknownKeys(lock, 'spec.objectLock', ['mode', 'days', 'years', 'governanceBypassConsumers']), undefined);
  const mode = p.take(() => enumAt(lock['mode'], 'spec.objectLock.mode', ENUMS.LockMode), 'Compliance');
  const days = p.take(() => intAt(lock['days'], 'spec.objectLock.days', 'spec.objectLock.days'), 1);
  const years = p.take(() => intAt(lock['years'], 'spec.objectLock.years', 'spec.objectLock.years'), 1);
  if ((days === undefined) === (years === undefined)) {
    p.add('spec.objectLock', 'needs exactly one of days or years', 'set spec.objectLock.days or spec.objectLock.years, not both');
  }
  const field = 'spec.objectLock.governanceBypassConsumers';
  const bypass = p
    .take(() => listAt(lock['governanceBypassConsumers'], field, field), [])
    .map((n, i) => p.take(() => requiredString(n, `${field}[${i}]`, textRule('spec.objectLock.governanceBypassConsumers[]', 'name a consumer')), ''));
  if (bypass.length > 0 && mode !== 'Governance') {
    p.add(field, 'nobody can bypass Compliance mode', 'remove governanceBypassConsumers or use mode Governance');
  }
  bypass.forEach((n, i) => {
    if (!consumers.some((c) => c.name === n)) p.add(`${field}[${i}]`, `'${n}' is not a consumer of this claim`, 'name a consumer from spec.consumers');
  });
  const out: ObjectLock = { mode, governanceBypassConsumers: uniqueEntries(bypass, field, p) };
  if (days !== undefined) out.days = days;
  if (years !== undefined) out.years = years;
  return out;
}

function readTransitions(value: unknown, field: string, path: 'spec.lifecycle.transitions' | 'spec.lifecycle.rules[].transitions', p: Problems): Transition[] {
  const out: Transition[] = [];
  p.take(() => listAt(value, field, path), []).forEach((raw, i) => {
    const t = p.take(() => objectAt(raw, `${field}[${i}]`, true) as Json, undefined);
    if (!t) return;
    p.take(() => rejectUnknownKeys(t, `${field}[${i}]`, ['days', 'storageClass']), undefined);
    const days = p.take(() => intAt(t['days'], `${field}[${i}].days`, `${path}[].days`), undefined);
    if (days === undefined && t['days'] === undefined) p.add(`${field}[${i}].days`, 'is required', 'set the age in days at which objects move');
    const storageClass = p.take(() => enumAt(t['storageClass'], `${field}[${i}].storageClass`, STORAGE_CLASSES), undefined);
    if (days !== undefined && storageClass !== undefined) out.push({ days, storageClass });
  });
  return out;
}

function readLifecycle(value: unknown, p: Problems): Lifecycle {
  const lc = p.take(() => objectAt(value, 'spec.lifecycle'), undefined) ?? {};
  p.take(
    () =>
      rejectUnknownKeys(lc, 'spec.lifecycle', [
        'transitions',
        'expireAfterDays',
        'noncurrentVersionExpireAfterDays',
        'abortIncompleteMultipartUploadDays',
        'rules',
      ]),
    undefined,
  );
  const at = (key: 'expireAfterDays' | 'noncurrentVersionExpireAfterDays' | 'abortIncompleteMultipartUploadDays'): number | undefined =>
    p.take(() => intAt(lc[key], `spec.lifecycle.${key}`, `spec.lifecycle.${key}`), undefined);
  const out: Lifecycle = {
    transitions: readTransitions(lc['transitions'], 'spec.lifecycle.transitions', 'spec.lifecycle.transitions', p),
    abortIncompleteMultipartUploadDays: at('abortIncompleteMultipartUploadDays') ?? CLAIM_FIELDS['spec.lifecycle.abortIncompleteMultipartUploadDays'].default,
    rules: p
      .take(() => listAt(lc['rules'], 'spec.lifecycle.rules', 'spec.lifecycle.rules'), [])
      .flatMap((raw, i) => {
        const rule = readRule(raw, `spec.lifecycle.rules[${i}]`, p);
        return rule ? [rule] : [];
      }),
  };
  const expire = at('expireAfterDays');
  if (expire !== undefined) out.expireAfterDays = expire;
  const noncurrent = at('noncurrentVersionExpireAfterDays');
  if (noncurrent !== undefined) out.noncurrentVersionExpireAfterDays = noncurrent;
  return out;
}

function readRule(raw: unknown, field: string, p: Problems): LifecycleRule | undefined {
  const r = p.take(() => objectAt(raw, field, true) as Json, undefined);
  if (!r) return undefined;
  p.take(() => rejectUnknownKeys(r, field, ['name', 'prefix', 'transitions', 'expireAfterDays']), undefined);
  const rule: LifecycleRule = {
    name: p.take(() => requiredString(r['name'], `${field}.name`, textRule('spec.lifecycle.rules[].name', 'use lowercase letters, digits and hyphens')), ''),
    prefix: p.take(() => requiredString(r['prefix'], `${field}.prefix`, textRule('spec.lifecycle.rules[].prefix', "write a key prefix ending in '/'")), ''),
    transitions: readTransitions(r['transitions'], `${field}.transitions`, 'spec.lifecycle.rules[].transitions', p),
  };
  const expire = p.take(() => intAt(r['expireAfterDays'], `${field}.expireAfterDays`, 'spec.lifecycle.rules[].expireAfterDays'), undefined);
  if (expire !== undefined) rule.expireAfterDays = expire;
  return rule;
}

function readAlarms(value: unknown): Alarms | undefined {
  const a = objectAt(value, 'spec.alarms');
  if (!a) return undefined;
  rejectUnknownKeys(a, 'spec.alarms', ['email', 'snsTopicArn']);
  const email = stringAt(a['email'], 'spec.alarms.email', textRule('spec.alarms.email', 'write an email address'));
  const snsTopicArn = stringAt(a['snsTopicArn'], 'spec.alarms.snsTopicArn', textRule('spec.alarms.snsTopicArn', 'write an SNS topic ARN'));
  if (email !== undefined && snsTopicArn !== undefined) {
    throw new ClaimError('spec.alarms', 'sets both email and snsTopicArn', 'keep one of spec.alarms.email or spec.alarms.snsTopicArn');
  }
  const out: Alarms = {};
  if (email !== undefined) out.email = email;
  if (snsTopicArn !== undefined) out.snsTopicArn = snsTopicArn;
  return out;
}

export { isObject, RESERVED_RULE_IDS };
