// The key policy of every bucket the platform creates (source and replica alike): the account's
// root user and the platform's key admins administer it and never use it; the provider keeps only
// what it needs to create and keep the key, never to disable or delete it; consumer roles use it
// only through S3 in the bucket's region, each only for what its access level needs; nobody else,
// however broad their IAM policy.
import { describe, expect, it } from '@jest/globals';
import { allowAll, evaluateKms, exampleBucketSets, examplePolicySets, platformBoundary, type Caller } from '../lib/simulate.js';

const ADMIN_ACTIONS = ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:DescribeKey'];
const USE_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncryptFrom', 'kms:CreateGrant'];
/** What would end a key's usefulness or weaken it: only the root user and the named key admins. */
const DESTRUCTIVE = ['kms:DisableKey', 'kms:ScheduleKeyDeletion', 'kms:DisableKeyRotation', 'kms:CancelKeyDeletion'];
/** What the provider needs to create and keep the key. */
const PROVIDER_NEEDS = ['kms:DescribeKey', 'kms:PutKeyPolicy', 'kms:TagResource', 'kms:EnableKeyRotation', 'kms:GetKeyPolicy', 'kms:CreateAlias'];

/** A principal of the account whose IAM policy allows all of KMS (the root user's is implicit). */
const withAllKms = (id: string, arn: string): Caller => ({ id, arn, identityPolicies: [allowAll('AllKms', ['kms:*'])] });

describe.each(exampleBucketSets())('key policy of $file', ({ set }) => {
  const via = `s3.${set.region}.amazonaws.com`;
  const root = `arn:aws:iam::${set.env.accountId}:root`;
  const admins = [withAllKms('root user', root), ...set.env.kms.keyAdminArns.map((a) => withAllKms('key admin', a))];
  const provider = withAllKms('provider', set.env.access.providerRoleArn);

  it('no statement allows the account root without a condition (that would hand the key to every kms:* role)', () => {
    for (const st of set.keyPolicy.Statement) expect([st['Sid'], st['Condition']]).toEqual([st['Sid'], expect.objectContaining({})]);
  });

  it.each(admins.map((a) => [a.id, a] as const))('%s administers the key', async (_id, admin) => {
    for (const action of [...ADMIN_ACTIONS, ...DESTRUCTIVE])
      expect(await evaluateKms(set, admin, action)).toMatchObject({ allowed: true, decidedBy: 'key:KeyAdministrators' });
  });

  it('the provider creates, tags, describes, rotates and re-policies the key, and can neither disable nor delete it', async () => {
    for (const action of PROVIDER_NEEDS)
      expect([action, await evaluateKms(set, provider, action)]).toEqual([
        action,
        expect.objectContaining({ allowed: true, decidedBy: 'key:ProviderManagesKey' }),
      ]);
    for (const action of DESTRUCTIVE) expect([action, (await evaluateKms(set, provider, action)).allowed]).toEqual([action, false]);
  });

  it.each([...admins, provider].map((a) => [a.id, a] as const))('%s cannot use the key, not even through S3', async (_id, admin) => {
    for (const action of USE_ACTIONS) {
      expect(await evaluateKms(set, admin, action)).toMatchObject({ allowed: false });
      expect(await evaluateKms(set, admin, action, via)).toMatchObject({ allowed: false });
    }
  });

  it('nobody but the root user and the key admins can disable or delete it: consumers, node, break-glass, any role with kms:*', async () => {
    const others = [
      provider,
      withAllKms('node', set.env.access.nodeRoleArn as string),
      withAllKms('other', `arn:aws:iam::${set.env.accountId}:role/some-admin-ish-role`),
      ...set.env.access.breakGlassPrincipalArns.map((a) => withAllKms('break-glass', a)),
      ...set.consumers.map((c) => withAllKms(c.name, c.roleArn)),
    ];
    for (const who of others)
      for (const action of DESTRUCTIVE) expect([who.id, action, (await evaluateKms(set, who, action)).allowed]).toEqual([who.id, action, false]);
  });

  it('the node role and any other role of the account get nothing, even with kms:* in IAM', async () => {
    const outsiders = [
      withAllKms('node', set.env.access.nodeRoleArn as string),
      withAllKms('other', `arn:aws:iam::${set.env.accountId}:role/some-admin-ish-role`),
    ];
    for (const who of outsiders) {
      for (const action of [...USE_ACTIONS, ...ADMIN_ACTIONS]) {
        for (const service of [undefined, via]) expect(await evaluateKms(set, who, action, service)).toMatchObject({ allowed: false });
      }
    }
  });

  it('a principal of another account is refused even when named like one the key admits', async () => {
    const admitted = set.consumers[0]?.roleArn ?? (set.env.access.breakGlassPrincipalArns[0] as string);
    const foreignArn = admitted.replace(set.env.accountId, '999988887777');
    expect(await evaluateKms(set, withAllKms('foreign', foreignArn), 'kms:Decrypt', via)).toMatchObject({ allowed: false });
  });
});

// The source keys' users (the replica has none: only S3, as the replication role, writes it; see
// protection-replication.test.ts).
describe.each(examplePolicySets())('key users of $file', ({ set }) => {
  const via = `s3.${set.region}.amazonaws.com`;
  const consumerCallers = set.consumers.map((c) => ({
    c,
    caller: {
      id: c.name,
      arn: c.roleArn,
      identityPolicies: [{ name: 'bucket-access', policy: c.accessPolicy }],
      boundary: platformBoundary(set.env),
    } as Caller,
  }));

  it.each(consumerCallers.map((x) => [x.c.name, x] as const))(
    '%s: Decrypt (and GenerateDataKey when it writes) only via S3 in the bucket region',
    async (_n, { c, caller }) => {
      const writes = c.access !== 'Read';
      expect(await evaluateKms(set, caller, 'kms:Decrypt', via)).toMatchObject({ allowed: true });
      expect(await evaluateKms(set, caller, 'kms:GenerateDataKey', via)).toMatchObject({ allowed: writes });
      for (const action of ['kms:Decrypt', 'kms:GenerateDataKey']) {
        expect(await evaluateKms(set, caller, action)).toMatchObject({ allowed: false }); // directly
        expect(await evaluateKms(set, caller, action, 'ec2.us-east-1.amazonaws.com')).toMatchObject({ allowed: false });
        expect(await evaluateKms(set, caller, action, 's3.eu-west-1.amazonaws.com')).toMatchObject({ allowed: false });
      }
      for (const action of [...ADMIN_ACTIONS, ...DESTRUCTIVE]) expect(await evaluateKms(set, caller, action)).toMatchObject({ allowed: false });
    },
  );
});
