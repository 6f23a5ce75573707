// Every CEL rule of both XRDs, evaluated with a real CEL engine on defaulted specs the way the
// apiserver runs them: which rule fires, where, and with which message; transition rules get
// the old object of an update. Each invalid spec passes the OpenAPI checks, so the rule under
// test is what rejects it.
import { describe, it, expect } from '@jest/globals';
import { exampleClaimNames } from '../lib/repo.js';
import { collectRules, compileSchema, readYaml, validateLikeApiserver, type Violation } from '../lib/cel.js';
import { eachXrd } from './xrds.js';

type Spec = Record<string, unknown>;

/** Every example claim (a new one is tested without editing this file). */
const exampleNames = exampleClaimNames();
const examples = exampleNames.map((name) => [name, readYaml<{ spec: Spec }>(`compositions/examples/claims/${name}.yaml`).spec] as const);

const consumer = (name: string, extra: Spec = {}): Spec => ({ name, serviceAccount: name, access: 'Read', prefixes: ['data/'], ...extra });
const transitions = (...steps: Array<[number, string]>) => steps.map(([days, storageClass]) => ({ days, storageClass }));
const lifecycleRule = (extra: Spec): Spec => ({ name: 'logs', prefix: 'logs/', ...extra });
const compliance = (retention: Spec): Spec => ({ objectLock: { mode: 'Compliance', ...retention } });
const governance = (retention: Spec): Spec => ({ objectLock: { mode: 'Governance', ...retention } });
const fixedName = (name: string): Spec => ({ naming: { strategy: 'Fixed', name } });

/** [case, spec, path of the rule that fires, its message] */
type Rejection = readonly [string, Spec, string, RegExp];

const rejectedOnCreate: Rejection[] = [
  ['Fixed naming without a name', { naming: { strategy: 'Fixed' } }, 'spec.naming', /^naming\.name is required when naming\.strategy is Fixed: /],
  [
    'a name with Generated naming',
    { naming: { strategy: 'Generated', name: 'my-bucket' } },
    'spec.naming',
    /^naming\.name is only used with naming\.strategy Fixed: /,
  ],
  ['a name with the xn-- prefix', fixedName('xn--bucket'), 'spec.naming.name', /must not start with the S3-reserved prefixes/],
  ['a name with the sthree- prefix', fixedName('sthree-bucket'), 'spec.naming.name', /must not start with the S3-reserved prefixes/],
  ['a name with the amzn-s3-demo- prefix', fixedName('amzn-s3-demo-bucket'), 'spec.naming.name', /must not start with the S3-reserved prefixes/],
  ['a name with the -s3alias suffix', fixedName('logs-s3alias'), 'spec.naming.name', /must not end with the S3-reserved suffixes/],
  ['a name with the --ol-s3 suffix', fixedName('logs--ol-s3'), 'spec.naming.name', /must not end with the S3-reserved suffixes/],
  ['a name with the --x-s3 suffix', fixedName('logs--x-s3'), 'spec.naming.name', /must not end with the S3-reserved suffixes/],
  ['a name with the --table-s3 suffix', fixedName('logs--table-s3'), 'spec.naming.name', /must not end with the S3-reserved suffixes/],
  ['two consumers with one name', { consumers: [consumer('api'), consumer('api', { access: 'Write' })] }, 'spec.consumers', /^consumer names must be unique: /],
  ['object lock with days and years', compliance({ days: 30, years: 1 }), 'spec.objectLock', /^objectLock needs exactly one of days or years: /],
  ['object lock without retention', compliance({}), 'spec.objectLock', /^objectLock needs exactly one of days or years: /],
  [
    'governance bypass in Compliance mode',
    { consumers: [consumer('api')], ...compliance({ days: 1, governanceBypassConsumers: ['api'] }) },
    'spec.objectLock',
    /^objectLock\.governanceBypassConsumers is only allowed with mode Governance: /,
  ],
  [
    'governance bypass for an unknown consumer',
    { consumers: [consumer('api')], ...governance({ days: 1, governanceBypassConsumers: ['admin'] }) },
    'spec',
    /^objectLock\.governanceBypassConsumers must name consumers of this claim: /,
  ],
  [
    'replication to the bucket region',
    { region: 'us-east-1', replication: { destinationRegion: 'us-east-1' } },
    'spec',
    /^replication\.destinationRegion must differ from region: /,
  ],
  [
    'expiration on the day of a transition',
    { lifecycle: { transitions: transitions([90, 'GLACIER']), expireAfterDays: 90 } },
    'spec.lifecycle',
    /^lifecycle\.expireAfterDays must be greater than every transition's days: /,
  ],
  [
    'STANDARD_IA before 30 days',
    { lifecycle: { transitions: transitions([29, 'STANDARD_IA']) } },
    'spec.lifecycle.transitions[0]',
    /^a transition to STANDARD_IA needs days >= 30 \(the AWS minimum\): /,
  ],
  [
    'two transitions on one day',
    { lifecycle: { transitions: transitions([90, 'GLACIER_IR'], [90, 'GLACIER']) } },
    'spec.lifecycle.transitions',
    /^transition days must strictly increase in list order: /,
  ],
  [
    'five transitions whose last days go back',
    { lifecycle: { transitions: transitions([30, 'STANDARD_IA'], [60, 'INTELLIGENT_TIERING'], [90, 'GLACIER_IR'], [180, 'GLACIER'], [150, 'DEEP_ARCHIVE']) } },
    'spec.lifecycle.transitions',
    /^transition days must strictly increase in list order: /,
  ],
  [
    'a transition to a warmer class',
    { lifecycle: { transitions: transitions([30, 'GLACIER'], [120, 'STANDARD_IA']) } },
    'spec.lifecycle.transitions',
    /^each transition must go to a colder storage class .*: reorder or drop transitions$/,
  ],
  [
    'five transitions whose last class is warmer',
    { lifecycle: { transitions: transitions([30, 'STANDARD_IA'], [60, 'INTELLIGENT_TIERING'], [90, 'GLACIER_IR'], [180, 'DEEP_ARCHIVE'], [365, 'GLACIER']) } },
    'spec.lifecycle.transitions',
    /^each transition must go to a colder storage class/,
  ],
  [
    'a lifecycle rule named default',
    { lifecycle: { rules: [lifecycleRule({ name: 'default', expireAfterDays: 30 })] } },
    'spec.lifecycle.rules[0]',
    /^lifecycle rule names default, abort-incomplete-multipart-uploads and noncurrent-versions are reserved/,
  ],
  [
    'a lifecycle rule named noncurrent-versions',
    { lifecycle: { rules: [lifecycleRule({ name: 'noncurrent-versions', expireAfterDays: 30 })] } },
    'spec.lifecycle.rules[0]',
    /are reserved for the platform's own rules/,
  ],
  ['a consumer named replication', { consumers: [consumer('replication')] }, 'spec.consumers[0]', /^consumer name 'replication' is reserved/],
  [
    'two lifecycle rules on one prefix',
    { lifecycle: { rules: [lifecycleRule({ expireAfterDays: 30 }), lifecycleRule({ name: 'tmp', expireAfterDays: 1 })] } },
    'spec.lifecycle.rules',
    /^lifecycle rule prefixes must be unique: /,
  ],
  [
    'a rule keeping objects longer than the whole bucket',
    { lifecycle: { expireAfterDays: 30, rules: [lifecycleRule({ expireAfterDays: 60 })] } },
    'spec.lifecycle',
    /^a rule's expireAfterDays cannot exceed lifecycle\.expireAfterDays/,
  ],
  [
    'noncurrent expiry on an unversioned bucket',
    { lifecycle: { noncurrentVersionExpireAfterDays: 30 } },
    'spec',
    /^lifecycle\.noncurrentVersionExpireAfterDays needs a versioned bucket: /,
  ],
  [
    'a rule leaving STANDARD_IA after 10 days',
    { lifecycle: { rules: [lifecycleRule({ transitions: transitions([30, 'STANDARD_IA'], [40, 'GLACIER']) })] } },
    'spec.lifecycle.rules[0].transitions',
    /^objects must stay in a class its minimum storage duration before moving on/,
  ],
  [
    'GLACIER leaving before 90 days',
    { lifecycle: { transitions: transitions([0, 'GLACIER'], [30, 'DEEP_ARCHIVE']) } },
    'spec.lifecycle.transitions',
    /^objects must stay in a class its minimum storage duration before moving on/,
  ],
  [
    'a lifecycle rule without an action',
    { lifecycle: { rules: [lifecycleRule({})] } },
    'spec.lifecycle.rules[0]',
    /^a lifecycle rule needs transitions or expireAfterDays: /,
  ],
  [
    'a lifecycle rule expiring before its transition',
    { lifecycle: { rules: [lifecycleRule({ transitions: transitions([90, 'GLACIER']), expireAfterDays: 60 })] } },
    'spec.lifecycle.rules[0]',
    /^a rule's expireAfterDays must be greater than every transition's days: /,
  ],
  [
    'two lifecycle rules with one name',
    { lifecycle: { rules: [lifecycleRule({ expireAfterDays: 30 }), lifecycleRule({ prefix: 'tmp/', expireAfterDays: 1 })] } },
    'spec.lifecycle.rules',
    /^lifecycle rule names must be unique: /,
  ],
  [
    'a rule moving to STANDARD_IA after 10 days',
    { lifecycle: { rules: [lifecycleRule({ transitions: transitions([10, 'STANDARD_IA']) })] } },
    'spec.lifecycle.rules[0].transitions[0]',
    /^a transition to STANDARD_IA needs days >= 30/,
  ],
  [
    'a rule whose transition days go back',
    { lifecycle: { rules: [lifecycleRule({ transitions: transitions([180, 'GLACIER'], [90, 'DEEP_ARCHIVE']) })] } },
    'spec.lifecycle.rules[0].transitions',
    /^transition days must strictly increase in list order: /,
  ],
  [
    'a rule moving to a warmer class',
    { lifecycle: { rules: [lifecycleRule({ transitions: transitions([30, 'DEEP_ARCHIVE'], [210, 'GLACIER_IR']) })] } },
    'spec.lifecycle.rules[0].transitions',
    /^each transition must go to a colder storage class/,
  ],
  [
    'alarms to an email and a topic',
    { alarms: { email: 'oncall@example.com', snsTopicArn: 'arn:aws:sns:us-east-1:111122223333:alerts' } },
    'spec.alarms',
    /^alarms takes email or snsTopicArn, not both: /,
  ],
];

/** [case, old spec, new spec, path of the rule that fires, its message] */
type RejectedUpdate = readonly [string, Spec, Spec, string, RegExp];

const rejectedOnUpdate: RejectedUpdate[] = [
  ['Generated naming changed to Fixed', {}, fixedName('my-bucket'), 'spec.naming', /^naming is immutable \(renaming would create a second bucket\): /],
  ['a Fixed name changed', fixedName('my-bucket'), fixedName('my-bucket-2'), 'spec.naming', /^naming is immutable/],
  ['object lock removed', compliance({ days: 30 }), {}, 'spec', /^objectLock cannot be removed once set .*: restore spec\.objectLock$/],
  ['Governance object lock removed', governance({ days: 30 }), {}, 'spec', /^objectLock cannot be removed once set/],
  [
    'Compliance changed to Governance',
    compliance({ days: 30 }),
    governance({ days: 30 }),
    'spec.objectLock',
    /^objectLock\.mode Compliance cannot be changed to Governance: /,
  ],
  ['Compliance days shortened', compliance({ days: 30 }), compliance({ days: 29 }), 'spec.objectLock', /^Compliance retention cannot be shortened: /],
  [
    'Compliance years replaced by fewer days',
    compliance({ years: 2 }),
    compliance({ days: 700 }),
    'spec.objectLock',
    /^Compliance retention cannot be shortened: /,
  ],
  [
    'Compliance days replaced by fewer years',
    compliance({ days: 400 }),
    compliance({ years: 1 }),
    'spec.objectLock',
    /^Compliance retention cannot be shortened: /,
  ],
];

const admittedOnCreate: Array<readonly [string, Spec]> = [
  ...examples.map(([name, s]) => [`example claim ${name}`, s] as const),
  ['an empty spec (all defaults)', {}],
  ['a Fixed name', fixedName('team-inventory-audit-archive')],
  ['a name with a reserved word inside, not at its ends', fixedName('my-xn--sthree-s3alias-bucket')],
  ['Governance with a bypass consumer of the claim', { consumers: [consumer('ops')], ...governance({ years: 1, governanceBypassConsumers: ['ops'] }) }],
  ['alarms to the platform topic', { alarms: {} }],
  ['alarms to the tenant topic', { alarms: { snsTopicArn: 'arn:aws:sns:us-east-1:111122223333:team-alerts' } }],
  ['replication without a region (the platform region applies)', { replication: { destinationRegion: 'eu-west-1' } }],
  ['replication to another region', { region: 'us-east-1', replication: { destinationRegion: 'us-west-2' } }],
  [
    'five transitions to ever colder classes',
    {
      lifecycle: {
        transitions: transitions([30, 'STANDARD_IA'], [60, 'INTELLIGENT_TIERING'], [90, 'GLACIER_IR'], [180, 'GLACIER'], [365, 'DEEP_ARCHIVE']),
        expireAfterDays: 3650,
      },
    },
  ],
  ['an immediate transition to GLACIER', { lifecycle: { transitions: transitions([0, 'GLACIER']) } }],
  [
    'per-prefix lifecycle rules',
    {
      lifecycle: {
        rules: [
          lifecycleRule({ expireAfterDays: 30 }),
          lifecycleRule({ name: 'archive', prefix: 'archive/', transitions: transitions([30, 'STANDARD_IA'], [90, 'GLACIER']), expireAfterDays: 400 }),
        ],
      },
    },
  ],
];

const admittedOnUpdate: Array<readonly [string, Spec, Spec]> = [
  ['defaulted naming left alone', {}, { consumers: [consumer('api')] }],
  ['Fixed naming left alone while consumers change', fixedName('my-bucket'), { ...fixedName('my-bucket'), consumers: [consumer('api')] }],
  ['object lock added later', {}, compliance({ days: 30 })],
  ['Governance tightened to Compliance', governance({ days: 30 }), compliance({ days: 30 })],
  ['Compliance days extended', compliance({ days: 30 }), compliance({ days: 60 })],
  ['Compliance 365 days written as 1 year', compliance({ days: 365 }), compliance({ years: 1 })],
  ['Compliance 1 year written as 365 days', compliance({ years: 1 }), compliance({ days: 365 })],
  ['Governance retention shortened (it can be bypassed anyway)', governance({ days: 30 }), governance({ days: 1 })],
  [
    `example ${examples[0]![0]} with a consumer added`,
    examples[0]![1],
    { ...examples[0]![1], consumers: [...(examples[0]![1]['consumers'] as Spec[]), consumer('auditor')] },
  ],
];

function summary(violations: Violation[]) {
  return violations.map(({ path, message, error }) => ({ path, message, error }));
}

// The same tables against both XRDs: each must reject and admit exactly the same specs.
describe.each(eachXrd)('%s', (_file, { spec }) => {
  const validate = compileSchema(spec);
  const admit = (next: Spec, previous?: Spec) => validateLikeApiserver(validate, spec, next, previous, 'spec');

  describe('claims the CEL rules reject on create', () => {
    it.each(rejectedOnCreate)('%s', (_name, claim, path, message) => {
      const { schemaErrors, celViolations } = admit(claim);
      expect(schemaErrors).toEqual([]);
      expect(summary(celViolations)).toEqual([{ path, message: expect.stringMatching(message), error: undefined }]);
    });
  });

  describe('updates the transition rules reject', () => {
    it.each(rejectedOnUpdate)('%s', (_name, previous, next, path, message) => {
      expect(admit(previous).celViolations).toEqual([]);
      const { schemaErrors, celViolations } = admit(next, previous);
      expect(schemaErrors).toEqual([]);
      expect(summary(celViolations)).toEqual([{ path, message: expect.stringMatching(message), error: undefined }]);
    });

    it('does not run transition rules on create', () => {
      for (const [, , next] of rejectedOnUpdate) expect(admit(next).celViolations).toEqual([]);
    });
  });

  describe('claims and updates the CEL rules admit', () => {
    it.each(admittedOnCreate)('%s', (_name, claim) => {
      expect(admit(claim)).toMatchObject({ schemaErrors: [], celViolations: [] });
    });

    it.each(admittedOnUpdate)('%s', (_name, previous, next) => {
      expect(admit(next, previous)).toMatchObject({ schemaErrors: [], celViolations: [] });
    });
  });

  describe('coverage of the tables', () => {
    it('makes every rule of the XRD fire at least once', () => {
      const fired = new Set(
        [...rejectedOnCreate.map(([, claim]) => admit(claim)), ...rejectedOnUpdate.map(([, previous, next]) => admit(next, previous))]
          .flatMap((r) => r.celViolations)
          .map((v) => `${v.path.replace(/\[\d+\]/g, '[*]')} ${v.rule}`),
      );
      const all = collectRules(spec, 'spec').map((r) => `${r.path} ${r.rule}`);
      expect(all.filter((r) => !fired.has(r))).toEqual([]);
      expect(all).toHaveLength(31);
    });
  });
});
