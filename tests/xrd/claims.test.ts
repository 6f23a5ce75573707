// Claims against the XRD's OpenAPI schema, as the apiserver applies it before any CEL rule:
// the example claims pass with the safe defaults filled in; unknown fields, other
// namespaces' service accounts, widening prefixes and out-of-range values are refused; and
// the schema has exactly the fields of the function's contract (core/types.ts).
import { describe, it, expect } from '@jest/globals';
import { compileSchema, readYaml, validateLikeApiserver, type Schema } from '../lib/cel.js';
import { exampleClaimNames, listCommittedYamlFiles, loadYamlDocuments } from '../lib/repo.js';
import { eachXrd, XR_VERSION, XRDS, type XrdUnderTest } from './xrds.js';
import type { BucketSpec, CompositeStatus } from '../../functions/secure-bucket/src/core/index.js';

type Spec = Record<string, unknown>;
interface Claim {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: Spec;
}

const [legacy, namespaced] = XRDS as [XrdUnderTest, XrdUnderTest];
const admitter = (spec: Schema) => {
  const validate = compileSchema(spec);
  return (object: Spec) => validateLikeApiserver(validate, spec, object, undefined, 'spec');
};
const admit = admitter(legacy.spec);
const claims = exampleClaimNames().map((name) => [name, readYaml<Claim>(`compositions/examples/claims/${name}.yaml`)] as const);
/** Every v2 XSecureBucket the repo holds (the staging tenants run on v2). */
const namespacedXrs = listCommittedYamlFiles()
  .flatMap((file) => loadYamlDocuments(file).map((doc) => [file, doc as Claim] as const))
  .filter(([, doc]) => doc?.kind === namespaced.xrd.spec.names.kind && doc.apiVersion === `${namespaced.xrd.spec.group}/${XR_VERSION}`);

describe('the v2 XRD: namespaced, no claim, the same kind in its own group', () => {
  it('is Namespaced XSecureBucket of storage.platform.example.org without claimNames', () => {
    expect(namespaced.xrd.apiVersion).toBe('apiextensions.crossplane.io/v2');
    expect(namespaced.xrd.spec).toMatchObject({
      group: 'storage.platform.example.org',
      names: { kind: 'XSecureBucket', plural: 'xsecurebuckets' },
      scope: 'Namespaced',
    });
    expect(namespaced.xrd.spec.claimNames).toBeUndefined();
    // A CRD's scope is per group and kind: the v1 XR keeps its cluster scope, so the groups differ.
    expect(namespaced.xrd.spec.group).not.toBe(legacy.xrd.spec.group);
    expect(namespaced.xrd.spec.names).toEqual(legacy.xrd.spec.names);
  });

  it('has printer columns identical to the claim API', () => {
    expect(namespaced.xrd.spec.versions.map((v) => v.additionalPrinterColumns)).toEqual(legacy.xrd.spec.versions.map((v) => v.additionalPrinterColumns));
  });

  it.each(namespacedXrs.map(([file, doc]) => [`${file}: ${doc.metadata.name}`, doc] as const))(
    '%s lives in a namespace and passes schema and CEL',
    (_name, xr) => {
      expect(xr.metadata.namespace).toMatch(/^[a-z0-9-]+$/);
      expect(admitter(namespaced.spec)(xr.spec)).toMatchObject({ schemaErrors: [], celViolations: [] });
    },
  );

  it('the repo holds v2 objects to check (staging runs its tenants on v2)', () => {
    expect(namespacedXrs.length).toBeGreaterThanOrEqual(3);
  });
});

describe('the example claims', () => {
  it.each(claims)('%s is a namespaced claim of the v1 XRD that passes schema and CEL', (_name, claim) => {
    expect(claim.apiVersion).toBe(`${legacy.xrd.spec.group}/${XR_VERSION}`);
    expect(claim.kind).toBe(legacy.xrd.spec.claimNames?.kind);
    expect(claim.metadata.namespace).toMatch(/^[a-z0-9-]+$/);
    expect(admit(claim.spec)).toMatchObject({ schemaErrors: [], celViolations: [] });
  });

  it('get the safe defaults (scratch sets only a consumer)', () => {
    const scratch = claims.find(([name]) => name === 'scratch')![1];
    expect(admit(scratch.spec).object).toEqual({
      naming: { strategy: 'Generated' },
      tls: { minimumVersion: '1.2' },
      consumers: [{ name: 'batch', serviceAccount: 'inventory-batch', access: 'ReadWrite', prefixes: ['tmp/'], accessPoint: false }],
      versioning: 'Auto',
      lifecycle: { transitions: [], abortIncompleteMultipartUploadDays: 7, rules: [] },
      metrics: false,
    });
  });

  it('keep what they set over the defaults', () => {
    const audit = claims.find(([name]) => name === 'audit-archive')![1];
    const object = admit(audit.spec).object as Spec;
    expect(object['tls']).toEqual({ minimumVersion: '1.3' });
    expect(object['objectLock']).toEqual({ mode: 'Compliance', days: 2555, governanceBypassConsumers: [] });
    expect(object['metrics']).toBe(true);
  });
});

/** [case, spec, JSON pointer of the refused value] */
const refused: Array<readonly [string, Spec, string]> = [
  ['an unknown field', { bucketPolicy: '{}' }, '/'],
  ['the platform account', { accountId: '111122223333' }, '/'],
  ['the permissions boundary', { permissionsBoundaryArn: 'arn:aws:iam::111122223333:policy/none' }, '/'],
  ['the VPC', { vpcId: 'vpc-1' }, '/'],
  ['the OIDC issuer', { oidcIssuer: 'oidc.example.com' }, '/'],
  [
    'a role ARN on a consumer',
    { consumers: [{ name: 'a', serviceAccount: 'a', access: 'Read', prefixes: ['a/'], roleArn: 'arn:aws:iam::1:role/x' }] },
    '/consumers/0',
  ],
  [
    'a service account of another namespace (IRSA subject form)',
    { consumers: [{ name: 'a', serviceAccount: 'system:serviceaccount:other-ns:x', access: 'Read', prefixes: ['a/'] }] },
    '/consumers/0/serviceAccount',
  ],
  [
    'a service account of another namespace (ns/name form)',
    { consumers: [{ name: 'a', serviceAccount: 'other-ns/x', access: 'Read', prefixes: ['a/'] }] },
    '/consumers/0/serviceAccount',
  ],
  ['an upper-case service account', { consumers: [{ name: 'a', serviceAccount: 'Api', access: 'Read', prefixes: ['a/'] }] }, '/consumers/0/serviceAccount'],
  ['a consumer name longer than 40', { consumers: [{ name: 'a'.repeat(41), serviceAccount: 'a', access: 'Read', prefixes: ['a/'] }] }, '/consumers/0/name'],
  ['an access level outside the enum', { consumers: [{ name: 'a', serviceAccount: 'a', access: 'Admin', prefixes: ['a/'] }] }, '/consumers/0/access'],
  ['a consumer without prefixes', { consumers: [{ name: 'a', serviceAccount: 'a', access: 'Read', prefixes: [] }] }, '/consumers/0/prefixes'],
  [
    'a consumer with 11 prefixes',
    { consumers: [{ name: 'a', serviceAccount: 'a', access: 'Read', prefixes: Array.from({ length: 11 }, (_, i) => `p${i}/`) }] },
    '/consumers/0/prefixes',
  ],
  [
    '21 consumers',
    { consumers: Array.from({ length: 21 }, (_, i) => ({ name: `c${i}`, serviceAccount: `c${i}`, access: 'Read', prefixes: ['a/'] })) },
    '/consumers',
  ],
  ...['/leading/', 'no-slash', 'a/*/', 'a*/', 'a/?/', 'a/${aws:username}/', 'a/../b/', '../', './', 'a//', 'a/ b/'].map(
    (prefix) =>
      [
        `the prefix ${JSON.stringify(prefix)}`,
        { consumers: [{ name: 'a', serviceAccount: 'a', access: 'Read', prefixes: [prefix] }] },
        '/consumers/0/prefixes/0',
      ] as const,
  ),
  [
    'a prefix longer than 256',
    { consumers: [{ name: 'a', serviceAccount: 'a', access: 'Read', prefixes: [`${'a'.repeat(256)}/`] }] },
    '/consumers/0/prefixes/0',
  ],
  ['a region with a zone letter', { region: 'us-east-1a' }, '/region'],
  ['an upper-case region', { region: 'US-EAST-1' }, '/region'],
  ['a naming strategy outside the enum', { naming: { strategy: 'Random' } }, '/naming/strategy'],
  ['a bucket name with dots', { naming: { strategy: 'Fixed', name: 'my.bucket' } }, '/naming/name'],
  ['a bucket name with upper case', { naming: { strategy: 'Fixed', name: 'MyBucket' } }, '/naming/name'],
  ['a 2-character bucket name', { naming: { strategy: 'Fixed', name: 'ab' } }, '/naming/name'],
  ['a 64-character bucket name', { naming: { strategy: 'Fixed', name: 'a'.repeat(64) } }, '/naming/name'],
  ['a bucket name ending in a hyphen', { naming: { strategy: 'Fixed', name: 'bucket-' } }, '/naming/name'],
  ['TLS 1.1', { tls: { minimumVersion: '1.1' } }, '/tls/minimumVersion'],
  ['TLS as a number', { tls: { minimumVersion: 1.2 } }, '/tls/minimumVersion'],
  ['object lock without a mode', { objectLock: { days: 1 } }, '/objectLock'],
  ['object lock of 0 days', { objectLock: { mode: 'Compliance', days: 0 } }, '/objectLock/days'],
  ['object lock of 36501 days', { objectLock: { mode: 'Compliance', days: 36501 } }, '/objectLock/days'],
  ['object lock of 101 years', { objectLock: { mode: 'Compliance', years: 101 } }, '/objectLock/years'],
  ['object lock of 1.5 years', { objectLock: { mode: 'Compliance', years: 1.5 } }, '/objectLock/years'],
  ['versioning Suspended', { versioning: 'Suspended' }, '/versioning'],
  ['a ONEZONE_IA transition', { lifecycle: { transitions: [{ days: 30, storageClass: 'ONEZONE_IA' }] } }, '/lifecycle/transitions/0/storageClass'],
  ['a negative transition day', { lifecycle: { transitions: [{ days: -1, storageClass: 'GLACIER' }] } }, '/lifecycle/transitions/0/days'],
  [
    '6 transitions',
    { lifecycle: { transitions: Array.from({ length: 6 }, (_, i) => ({ days: 30 * (i + 1), storageClass: 'GLACIER' })) } },
    '/lifecycle/transitions',
  ],
  ['multipart uploads never aborted', { lifecycle: { abortIncompleteMultipartUploadDays: 0 } }, '/lifecycle/abortIncompleteMultipartUploadDays'],
  ['multipart uploads kept 366 days', { lifecycle: { abortIncompleteMultipartUploadDays: 366 } }, '/lifecycle/abortIncompleteMultipartUploadDays'],
  ['a lifecycle rule with a wildcard prefix', { lifecycle: { rules: [{ name: 'x', prefix: 'logs/*/', expireAfterDays: 1 }] } }, '/lifecycle/rules/0/prefix'],
  ['a lifecycle rule without a prefix', { lifecycle: { rules: [{ name: 'x', expireAfterDays: 1 }] } }, '/lifecycle/rules/0'],
  ['metrics as a string', { metrics: 'true' }, '/metrics'],
  ['an alarm email without a domain', { alarms: { email: 'oncall' } }, '/alarms/email'],
  ['an SNS topic ARN with a short account', { alarms: { snsTopicArn: 'arn:aws:sns:us-east-1:1234:alerts' } }, '/alarms/snsTopicArn'],
  ['an SNS topic ARN with a wildcard', { alarms: { snsTopicArn: 'arn:aws:sns:us-east-1:111122223333:*' } }, '/alarms/snsTopicArn'],
  ['an SQS ARN as the alarm topic', { alarms: { snsTopicArn: 'arn:aws:sqs:us-east-1:111122223333:alerts' } }, '/alarms/snsTopicArn'],
  ['replication without a destination', { replication: {} }, '/replication'],
  ['replication to a made-up region', { replication: { destinationRegion: 'mars' } }, '/replication/destinationRegion'],
];

// The contract of the status: which fields CompositeStatus has (tsc checks this table against the
// type). The spec's types need no such table: they are generated from the schema
// (core/claim-api.generated.ts; tests/layout/generated.test.ts proves it is current).
type Presence<T> = { [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? 'optional' : 'always' };

const statusFields: Presence<CompositeStatus> = {
  bucketName: 'always',
  region: 'always',
  encryption: 'always',
  objectLock: 'always',
  kmsKeyArn: 'optional',
  endpointId: 'optional',
  consumers: 'optional',
  pendingValues: 'optional',
  alarmEmailSubscription: 'optional',
  managedNames: 'optional',
};

const at = (node: Schema, ...path: string[]): Schema => path.reduce<Schema>((n, key) => (key === '[*]' ? n.items! : n.properties![key]!), node);

// The spec-level checks, for both XRDs.
describe.each(eachXrd)('%s', (_file, { spec, status }) => {
  const admit = admitter(spec);

  describe('values the OpenAPI schema refuses', () => {
    it.each(refused)('%s', (_name, claim, pointer) => {
      const { schemaErrors } = admit(claim);
      expect(schemaErrors.length).toBeGreaterThan(0);
      expect(schemaErrors.map((e) => e.split(' ')[0])).toContain(pointer);
    });

    it('accepts the values next to those limits', () => {
      const edge: Spec = {
        region: 'us-gov-west-1',
        naming: { strategy: 'Fixed', name: `a${'-'.repeat(61)}b` },
        consumers: [{ name: 'a'.repeat(40), serviceAccount: 'team.api-v2', access: 'Read', prefixes: ['year=2024/month=01/', `${'a'.repeat(255)}/`] }],
        objectLock: { mode: 'Governance', years: 100 },
        lifecycle: { transitions: [{ days: 0, storageClass: 'INTELLIGENT_TIERING' }], abortIncompleteMultipartUploadDays: 365 },
        alarms: { snsTopicArn: 'arn:aws-us-gov:sns:us-gov-west-1:111122223333:Team_Alerts-1' },
        replication: { destinationRegion: 'cn-north-1' },
      };
      expect(admit(edge)).toMatchObject({ schemaErrors: [], celViolations: [] });
    });
  });

  describe('the schema matches the function contract (core/types.ts)', () => {
    it('has the status fields of CompositeStatus', () => {
      expect(Object.keys(status.properties ?? {}).sort()).toEqual(Object.keys(statusFields).sort());
    });

    it('offers exactly the naming strategies and fields of BucketSpec.naming', () => {
      const naming = at(spec, 'naming');
      const strategies: Array<BucketSpec['naming']['strategy']> = ['Generated', 'Fixed'];
      expect(naming.properties?.['strategy']?.enum).toEqual(strategies);
      expect(Object.keys(naming.properties ?? {}).sort()).toEqual(['name', 'strategy']);
    });
  });
});
