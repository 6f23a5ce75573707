// The bucket key's policy: the account's root user, the platform's key admins and the provider
// administer it and never use it; consumer roles use it only through S3 in the bucket's region,
// each only for what its access level needs; nobody else, however broad their IAM policy.
import { describe, expect, it } from '@jest/globals';
import { allowAll, evaluateKms, examplePolicySets, PLATFORM_BOUNDARY, type Caller, type PolicySet } from '../lib/simulate.js';

const ADMIN_ACTIONS = ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:DescribeKey'];
const USE_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncryptFrom', 'kms:CreateGrant'];

/** A principal of the account whose IAM policy allows all of KMS (the root user's is implicit). */
const withAllKms = (id: string, arn: string): Caller => ({ id, arn, identityPolicies: [allowAll('AllKms', ['kms:*'])] });

describe.each(examplePolicySets())('key policy of $file', ({ set }) => {
  const via = `s3.${set.region}.amazonaws.com`;
  const root = `arn:aws:iam::${set.env.accountId}:root`;
  const admins = [withAllKms('root user', root), ...set.env.kms.keyAdminArns.map((a) => withAllKms('key admin', a)), withAllKms('provider', set.env.access.providerRoleArn)];

  it.each(admins.map((a) => [a.id, a] as const))('%s administers the key', async (_id, admin) => {
    for (const action of ADMIN_ACTIONS) expect(await evaluateKms(set, admin, action)).toMatchObject({ allowed: true, decidedBy: 'key:KeyAdministrators' });
  });

  it.each(admins.map((a) => [a.id, a] as const))('%s cannot use the key, not even through S3', async (_id, admin) => {
    for (const action of USE_ACTIONS) {
      expect(await evaluateKms(set, admin, action)).toMatchObject({ allowed: false });
      expect(await evaluateKms(set, admin, action, via)).toMatchObject({ allowed: false });
    }
  });

  const consumerCallers = set.consumers.map((c) => ({ c, caller: { id: c.name, arn: c.roleArn, identityPolicies: [{ name: 'bucket-access', policy: c.accessPolicy }], boundary: PLATFORM_BOUNDARY } as Caller }));

  it.each(consumerCallers.map((x) => [x.c.name, x] as const))('%s: Decrypt (and GenerateDataKey when it writes) only via S3 in the bucket region', async (_n, { c, caller }) => {
    const writes = c.access !== 'Read';
    expect(await evaluateKms(set, caller, 'kms:Decrypt', via)).toMatchObject({ allowed: true });
    expect(await evaluateKms(set, caller, 'kms:GenerateDataKey', via)).toMatchObject({ allowed: writes });
    for (const action of ['kms:Decrypt', 'kms:GenerateDataKey']) {
      expect(await evaluateKms(set, caller, action)).toMatchObject({ allowed: false }); // directly
      expect(await evaluateKms(set, caller, action, 'ec2.us-east-1.amazonaws.com')).toMatchObject({ allowed: false });
      expect(await evaluateKms(set, caller, action, 's3.eu-west-1.amazonaws.com')).toMatchObject({ allowed: false });
    }
    for (const action of ADMIN_ACTIONS) expect(await evaluateKms(set, caller, action)).toMatchObject({ allowed: false });
  });

  it('the node role and any other role of the account get nothing, even with kms:* in IAM', async () => {
    const outsiders = [withAllKms('node', set.env.access.nodeRoleArn as string), withAllKms('other', `arn:aws:iam::${set.env.accountId}:role/some-admin-ish-role`)];
    for (const who of outsiders) {
      for (const action of [...USE_ACTIONS, ...ADMIN_ACTIONS]) {
        for (const service of [undefined, via]) expect(await evaluateKms(set, who, action, service)).toMatchObject({ allowed: false });
      }
    }
  });

  it('a principal of another account is refused even when named like a consumer', async () => {
    const c = set.consumers[0] as PolicySet['consumers'][number];
    const foreignArn = c.roleArn.replace(set.env.accountId, '999988887777');
    expect(await evaluateKms(set, withAllKms('foreign', foreignArn), 'kms:Decrypt', via)).toMatchObject({ allowed: false });
  });
});
