// Catalogue lint of every policy we emit: the simulator ignores misspelt operators, unknown
// actions and unknown condition keys, so a policy only counts as proven once it passes this.
import { describe, expect, it } from '@jest/globals';
import { allPoliciesOf, lintPolicy, lintPolicySet, policiesOf } from '../../functions/secure-bucket/cli/explain/lint.js';
import { examplePolicySets, type PolicyJson } from '../lib/simulate.js';

const all = [...examplePolicySets('irsa-shared-endpoint'), ...examplePolicySets('pod-identity-dedicated-endpoint')];

describe.each(all.map((x) => ({ ...x, label: `${x.file} (${x.set.env.identity.mode}, ${x.set.env.network.endpoint.mode} endpoint)` })))(
  'policies of $label',
  ({ set }) => {
    it('lint clean: bucket, key, endpoint, and every trust, access and access point policy', async () => {
      const names = policiesOf(set).map((p) => p.name);
      expect(names).toEqual(expect.arrayContaining(['bucket policy', 'key policy', 'endpoint policy']));
      expect(names.filter((n) => n.startsWith('trust policy of')).length).toBe(set.consumers.length);
      expect(await lintPolicySet(set)).toEqual([]);
    });

    it('the lint covers every policy document the render emits, not only the named ones', () => {
      const covered = new Set(allPoliciesOf(set).map((p) => JSON.stringify(p.policy)));
      const emitted = JSON.stringify(set.resources).match(/"(?:policy|assumeRolePolicy)":"\{/g) ?? [];
      expect(emitted.length).toBeGreaterThan(0);
      for (const r of Object.values(set.resources)) {
        const text = JSON.stringify(r.spec);
        for (const m of text.matchAll(/"(?:policy|assumeRolePolicy)":("(?:[^"\\]|\\.)*")/g)) {
          const doc = JSON.parse(JSON.parse(m[1] as string) as string) as unknown;
          expect(covered.has(JSON.stringify(doc))).toBe(true);
        }
      }
    });
  },
);

describe('the lint catches what the simulator would silently ignore', () => {
  const issuer = 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE';
  const doc = (statement: Record<string, unknown>): PolicyJson => ({
    Version: '2012-10-17',
    Statement: [{ Sid: 'S', Effect: 'Deny', Principal: '*', Resource: '*', ...statement }],
  });
  const problems = async (statement: Record<string, unknown>) => (await lintPolicy('test', doc(statement), { oidcIssuers: [issuer] })).map((f) => f.problem);

  it('accepts a correct statement (the control case)', async () => {
    expect(await problems({ Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' }, Bool: { 'aws:SecureTransport': 'false' } } })).toEqual(
      [],
    );
  });

  it.each([
    ['a misspelt operator', { Action: 's3:*', Condition: { StringEqual: { 'aws:SourceVpce': 'vpce-1' } } }, /operator 'StringEqual'/],
    [
      'a real operator outside the allow-list',
      { Action: 's3:*', Condition: { 'ForAnyValue:StringLike': { 'aws:SourceVpce': 'vpce-*' } } },
      /not in the allow-list/,
    ],
    ['a misspelt condition key', { Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersoin': '1.2' } } }, /unknown condition key 's3:TlsVersoin'/],
    ['a misspelt global key', { Action: 's3:*', Condition: { StringNotEquals: { 'aws:SourceVpc3': 'vpce-1' } } }, /unknown condition key 'aws:SourceVpc3'/],
    ['a misspelt action', { Action: ['s3:GetObjekt'] }, /unknown action 's3:GetObjekt'/],
    ['an unknown service', { Action: 's4:GetObject' }, /unknown service 's4'/],
    ['a wildcard that matches nothing', { Action: 's3:GetObjekt*' }, /matches no s3 action/],
    [
      'a key that never applies to the action',
      { Action: 's3:PutObject', Condition: { StringLike: { 's3:prefix': 'a/*' } } },
      /applies to none of s3:PutObject/,
    ],
    [
      'a key of another service than the actions',
      { Action: 's3:GetObject', Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } },
      /belongs to no action/,
    ],
    [
      'an OIDC key of an issuer the platform did not configure',
      { Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'oidc.eks.eu-west-1.amazonaws.com/id/OTHER:sub': 'x' } } },
      /unknown condition key/,
    ],
    ['an OIDC claim that does not exist', { Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${issuer}:subject`]: 'x' } } }, /OIDC key/],
    ['a Bool that is not true/false', { Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'no' } } }, /takes 'true' or 'false'/],
    ['a Numeric that is not a number', { Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 'TLSv1.2' } } }, /takes numbers/],
  ])('%s', async (_what, statement, expected) => {
    const found = await problems(statement);
    expect(found.some((p) => expected.test(p))).toBe(true);
  });

  it("accepts the configured issuer's sub and aud", async () => {
    expect(
      await problems({
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${issuer}:sub`]: 'system:serviceaccount:a:b', [`${issuer}:aud`]: 'sts.amazonaws.com' } },
      }),
    ).toEqual([]);
  });
});
