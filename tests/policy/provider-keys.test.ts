// Issue 19 (invariants 11 and 12): the provider's own role manages only the platform's KMS keys.
// A key of the account with the default key policy (the account root, so IAM policies decide) is
// what the provider role could otherwise re-policy, disable or schedule for deletion.
import { describe, expect, it } from '@jest/globals';
import { MANAGED_BY, MANAGED_BY_TAG, providerRolePolicyDocument, readEnvironment } from '../../functions/secure-bucket/src/core/index.js';
import { lintPolicy } from '../../functions/secure-bucket/cli/explain/lint.js';
import { environmentData, simulate, type Caller, type PolicyJson } from '../lib/simulate.js';

const env = readEnvironment(environmentData());
const providerPolicy = { name: 'provider-role-policy', policy: providerRolePolicyDocument(env) as unknown as PolicyJson };
const provider: Caller = { id: 'provider', arn: env.access.providerRoleArn, identityPolicies: [providerPolicy] };
/** The provider role with kms:* beside the shipped policy: the explicit denies still hold. */
const greedy: Caller = {
  ...provider,
  identityPolicies: [
    providerPolicy,
    { name: 'kms-star', policy: { Version: '2012-10-17', Statement: [{ Sid: 'KmsStar', Effect: 'Allow', Action: 'kms:*', Resource: '*' }] } },
  ],
};
const key = (id: string) => `arn:aws:kms:${env.region}:${env.accountId}:key/${id}`;
const PLATFORM_KEY = key('1234abcd-12ab-34cd-56ef-1234567890ab');
const FOREIGN_KEY = key('0000ffff-00ff-00ff-00ff-0000ffff0000');
const platformTags = { [`aws:ResourceTag/${MANAGED_BY_TAG}`]: MANAGED_BY };
/** KMS's default key policy: the account root, so the caller's IAM policies decide (what any untagged key of the account has). */
const DEFAULT_KEY_POLICY: PolicyJson = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'EnableIamPolicies', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${env.accountId}:root` }, Action: 'kms:*', Resource: '*' }],
};
const kms = (caller: Caller, action: string, resource: string, keys: Record<string, string | string[]> = {}) =>
  simulate(
    caller,
    action,
    {
      resourcePolicyName: 'key',
      ...(resource === '*' ? {} : { resourcePolicy: DEFAULT_KEY_POLICY }),
      resource,
      resourceAccount: env.accountId,
      identity: true,
      endpoint: false,
    },
    { 'aws:PrincipalArn': caller.arn as string, 'aws:PrincipalAccount': env.accountId, 'aws:SecureTransport': 'true', ...keys },
  );

const MANAGEMENT = [
  'kms:PutKeyPolicy',
  'kms:ScheduleKeyDeletion',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKeyRotation',
  'kms:UpdateKeyDescription',
  'kms:CreateGrant',
  'kms:UpdateAlias',
  'kms:CreateAlias',
  'kms:DeleteAlias',
];

describe("the provider role manages only the platform's KMS keys", () => {
  it('the provider role policy is lint clean (the simulator ignores misspelt operators and keys)', async () => {
    expect(await lintPolicy('provider role policy', providerPolicy.policy, { oidcIssuers: [] })).toEqual([]);
  });

  it('red team: the provider calling PutKeyPolicy, ScheduleKeyDeletion, DisableKey... on an untagged key of the account is denied, even with kms:* beside it', async () => {
    for (const caller of [provider, greedy]) {
      for (const action of MANAGEMENT) {
        expect([caller.identityPolicies.length, action, (await kms(caller, action, FOREIGN_KEY)).allowed]).toEqual([
          caller.identityPolicies.length,
          action,
          false,
        ]);
        // Tagged by someone else's tool, or with another value: not the platform's either.
        expect([action, (await kms(caller, action, FOREIGN_KEY, { [`aws:ResourceTag/${MANAGED_BY_TAG}`]: 'someone-else' })).allowed]).toEqual([action, false]);
      }
    }
  });

  it('red team: on a key the platform tagged, the provider does what the Key and Alias objects need', async () => {
    for (const action of [
      'kms:PutKeyPolicy',
      'kms:ScheduleKeyDeletion',
      'kms:EnableKeyRotation',
      'kms:UpdateKeyDescription',
      'kms:CreateAlias',
      'kms:DeleteAlias',
      'kms:DescribeKey',
      'kms:GetKeyPolicy',
    ]) {
      expect([action, (await kms(provider, action, PLATFORM_KEY, platformTags)).allowed]).toEqual([action, true]);
    }
    // Never disabled by the provider (invariant 11: only the root and named key admins), even on a platform key.
    expect((await kms(greedy, 'kms:DisableKey', PLATFORM_KEY, platformTags)).allowed).toBe(false);
    // Observing an adopted or refused key needs reading it, whoever tagged it.
    for (const action of ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:ListResourceTags'])
      expect([action, (await kms(provider, action, FOREIGN_KEY)).allowed]).toEqual([action, true]);
  });

  it('red team: CreateKey without the platform tag in the request is denied; with it, allowed', async () => {
    const created = { 'aws:TagKeys': [MANAGED_BY_TAG], [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY };
    expect((await kms(provider, 'kms:CreateKey', '*', created)).allowed).toBe(true);
    // KMS also authorizes CreateKey's tags as kms:TagResource on '*' (CreatePlatformTaggedKeys): the
    // simulator does not evaluate a '*' resource; on an existing foreign key the test below decides.
    for (const caller of [provider, greedy]) {
      expect((await kms(caller, 'kms:CreateKey', '*')).allowed).toBe(false);
      expect((await kms(caller, 'kms:CreateKey', '*', { 'aws:TagKeys': [MANAGED_BY_TAG], [`aws:RequestTag/${MANAGED_BY_TAG}`]: 'someone-else' })).allowed).toBe(
        false,
      );
    }
  });

  it('red team: the provider cannot tag a foreign key into the platform, nor untag a platform key out of it', async () => {
    const intoPlatform = { 'aws:TagKeys': [MANAGED_BY_TAG], [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY };
    for (const caller of [provider, greedy]) {
      expect((await kms(caller, 'kms:TagResource', FOREIGN_KEY, intoPlatform)).allowed).toBe(false);
      expect((await kms(caller, 'kms:UntagResource', PLATFORM_KEY, { ...platformTags, 'aws:TagKeys': [MANAGED_BY_TAG] })).allowed).toBe(false);
      // Re-valuing the tag on a platform key releases it too.
      expect(
        (
          await kms(caller, 'kms:TagResource', PLATFORM_KEY, {
            ...platformTags,
            'aws:TagKeys': [MANAGED_BY_TAG],
            [`aws:RequestTag/${MANAGED_BY_TAG}`]: 'someone-else',
          })
        ).allowed,
      ).toBe(false);
    }
    // The platform's own tags on its keys: the Key object's tags.
    const ownTags = {
      ...platformTags,
      'aws:TagKeys': [MANAGED_BY_TAG, 'platform.example.org/installation-region'],
      [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY,
      'aws:RequestTag/platform.example.org/installation-region': env.region,
    };
    expect((await kms(provider, 'kms:TagResource', PLATFORM_KEY, ownTags)).allowed).toBe(true);
    expect((await kms(provider, 'kms:UntagResource', PLATFORM_KEY, { ...platformTags, 'aws:TagKeys': ['platform.example.org/consumer'] })).allowed).toBe(true);
  });
});
