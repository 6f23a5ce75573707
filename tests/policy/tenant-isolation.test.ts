// Tenant isolation: a consumer role can be assumed only by its ServiceAccount in the claim's own
// namespace (IRSA or EKS Pod Identity, simulated against the rendered trust policies), and a claim
// can neither name another namespace's ServiceAccount nor set what the platform owns: the real
// RunFunction answers with a Fatal result naming the field.
import { describe, expect, it } from '@jest/globals';
import { Severity } from '@crossplane-org/function-sdk-typescript';
import { ENVIRONMENT_REQUIREMENT } from '../../functions/secure-bucket/src/function.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { call, desiredResources, environmentConfig, exampleClaim, fatalOf, withSpec, type Json } from '../lib/function-fixtures.js';
import { evaluateTrust, examplePolicySets, type ConsumerPolicies, type PolicySet } from '../lib/simulate.js';

const irsa = examplePolicySets('irsa-shared-endpoint');
const podIdentity = examplePolicySets('pod-identity-dedicated-endpoint');
const consumersOf = (sets: typeof irsa) => sets.flatMap(({ file, set }) => set.consumers.map((c) => ({ label: `${file} ${c.name}`, set, c })));

describe('IRSA trust: only system:serviceaccount:<claim namespace>:<serviceAccount>, audience sts.amazonaws.com', () => {
  const cases = consumersOf(irsa);
  const issuerOf = (set: PolicySet): string => set.env.identity.oidcIssuer as string;
  const assume = (set: PolicySet, c: ConsumerPolicies, claims: { sub: string; aud: string }, opts: { provider?: string; action?: string } = {}) => {
    const issuer = issuerOf(set);
    return evaluateTrust(c.trustPolicy, {
      principal: opts.provider ?? `arn:aws:iam::${set.env.accountId}:oidc-provider/${issuer}`,
      action: opts.action ?? 'sts:AssumeRoleWithWebIdentity',
      roleArn: c.roleArn,
      context: { [`${issuer}:sub`]: claims.sub, [`${issuer}:aud`]: claims.aud },
      oidcIssuer: issuer,
    });
  };
  const own = (set: PolicySet, c: ConsumerPolicies) => `system:serviceaccount:${set.identity.claimNamespace}:${c.serviceAccount}`;

  it.each(cases)('$label: its own ServiceAccount may assume the role', async ({ set, c }) => {
    expect(await assume(set, c, { sub: own(set, c), aud: 'sts.amazonaws.com' })).toMatchObject({ allowed: true, decidedBy: 'trust:ServiceAccountWebIdentity' });
  });

  it.each(cases)('$label: other namespaces, look-alike and wildcard subjects, other audiences, providers and actions are denied', async ({ set, c }) => {
    const denied = [
      { sub: `system:serviceaccount:intruder-ns:${c.serviceAccount}`, aud: 'sts.amazonaws.com' },
      { sub: `system:serviceaccount:${set.identity.claimNamespace}:*`, aud: 'sts.amazonaws.com' },
      { sub: `system:serviceaccount:${set.identity.claimNamespace}:${c.serviceAccount}-2`, aud: 'sts.amazonaws.com' },
      { sub: `system:serviceaccount:${set.identity.claimNamespace}:${c.serviceAccount.slice(0, -1)}*`, aud: 'sts.amazonaws.com' },
      { sub: own(set, c), aud: 'sts.amazonaws.com.evil' },
    ];
    for (const claims of denied) expect(await assume(set, c, claims)).toMatchObject({ allowed: false });
    expect(
      await assume(
        set,
        c,
        { sub: own(set, c), aud: 'sts.amazonaws.com' },
        { provider: `arn:aws:iam::${set.env.accountId}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/OTHERCLUSTER` },
      ),
    ).toMatchObject({ allowed: false });
    expect(await assume(set, c, { sub: own(set, c), aud: 'sts.amazonaws.com' }, { action: 'sts:AssumeRole' })).toMatchObject({ allowed: false });
  });

  it.each(cases)('$label: the trust policy compares with StringEquals only (no StringLike, no wildcards)', ({ c }) => {
    for (const st of c.trustPolicy.Statement) {
      const ops = Object.keys((st['Condition'] ?? {}) as object);
      expect(ops).toEqual(['StringEquals']);
      expect(JSON.stringify(st['Condition'])).not.toMatch(/[*?]/);
    }
  });
});

describe('EKS Pod Identity trust: pods.eks.amazonaws.com with the session tags of this cluster, namespace and ServiceAccount', () => {
  const cases = consumersOf(podIdentity);
  const tags = (set: PolicySet, c: ConsumerPolicies, patch: Record<string, string> = {}) => {
    const t: Record<string, string> = {
      'eks-cluster-name': set.env.clusterName,
      'kubernetes-namespace': set.identity.claimNamespace,
      'kubernetes-service-account': c.serviceAccount,
      ...patch,
    };
    // What the Pod Identity agent presents: the cluster's account and ARN (AWS's confused-deputy keys).
    const clusterArn = `arn:aws:eks:${set.env.region}:${set.env.accountId}:cluster/${set.env.clusterName}`;
    const ctx: Record<string, string | string[]> = { 'aws:SourceAccount': set.env.accountId, 'aws:SourceArn': clusterArn, 'aws:TagKeys': Object.keys(t) };
    for (const [k, v] of Object.entries(t)) ctx[`aws:RequestTag/${k}`] = v;
    return ctx;
  };
  const assume = (set: PolicySet, c: ConsumerPolicies, action: string, context: Record<string, string | string[]>, principal = 'pods.eks.amazonaws.com') =>
    evaluateTrust(c.trustPolicy, { principal, action, roleArn: c.roleArn, context });

  it.each(cases)('$label: the Pod Identity agent may assume the role and tag the session for its own ServiceAccount', async ({ set, c }) => {
    for (const action of ['sts:AssumeRole', 'sts:TagSession']) expect(await assume(set, c, action, tags(set, c))).toMatchObject({ allowed: true });
  });

  it.each(cases)('$label: another namespace, ServiceAccount, cluster, account or service principal is denied', async ({ set, c }) => {
    const wrong = [
      tags(set, c, { 'kubernetes-namespace': 'intruder-ns' }),
      tags(set, c, { 'kubernetes-service-account': `${c.serviceAccount}-2` }),
      tags(set, c, { 'eks-cluster-name': 'other-cluster' }),
      { ...tags(set, c), 'aws:SourceAccount': '999988887777' },
      // Another cluster of the same account whose agent presents the right tags: its ARN differs.
      { ...tags(set, c), 'aws:SourceArn': `arn:aws:eks:${set.env.region}:${set.env.accountId}:cluster/other-cluster` },
    ];
    for (const ctx of wrong) expect(await assume(set, c, 'sts:AssumeRole', ctx)).toMatchObject({ allowed: false });
    expect(await assume(set, c, 'sts:AssumeRole', tags(set, c), 'ec2.amazonaws.com')).toMatchObject({ allowed: false });
  });
});

describe('a claim cannot reach outside its namespace or set platform-owned fields (Fatal via RunFunction)', () => {
  const claim = exampleClaim('scratch');

  it(`asks Crossplane for the EnvironmentConfig under '${ENVIRONMENT_REQUIREMENT}' first`, async () => {
    const rsp = await call({ composite: compositeForClaim(claim) });
    expect(rsp.requirements?.resources?.[ENVIRONMENT_REQUIREMENT]).toMatchObject({ kind: 'EnvironmentConfig' });
    expect(fatalOf(rsp)).toBeUndefined();
  });

  const fatal = async (mutate: (spec: Json) => void) => {
    const rsp = await call({ composite: compositeForClaim(withSpec(claim, mutate)), environment: environmentConfig() });
    expect(rsp.results.filter((r) => r.severity === Severity.SEVERITY_FATAL)).toHaveLength(1);
    expect(Object.keys(desiredResources(rsp))).toEqual([]);
    return fatalOf(rsp) as string;
  };
  const firstConsumer = (spec: Json): Json => (spec['consumers'] as Json[])[0] as Json;

  it.each(['other-ns:inventory-batch', 'system:serviceaccount:other:inventory-batch', 'other/inventory-batch', 'inventory-*'])(
    'serviceAccount %s (another namespace or a pattern) is refused, naming the field',
    async (sa) => {
      const message = await fatal((spec) => {
        firstConsumer(spec)['serviceAccount'] = sa;
      });
      expect(message).toContain('spec.consumers[0].serviceAccount');
    },
  );

  it.each([
    ['oidcIssuer', 'oidc.eks.us-east-1.amazonaws.com/id/ATTACKER'],
    ['accountId', '999988887777'],
    ['permissionsBoundaryArn', 'arn:aws:iam::111122223333:policy/none'],
    ['vpcId', 'vpc-0123456789abcdef0'],
    ['vpcEndpointId', 'vpce-0123456789abcdef0'],
    ['identity', { mode: 'IRSA' }],
    ['network', { vpcId: 'vpc-1' }],
    ['breakGlassPrincipalArns', ['arn:aws:iam::111122223333:role/me']],
  ])('spec.%s is platform-owned: refused, naming the field', async (field, value) => {
    const message = await fatal((spec) => {
      spec[field] = value;
    });
    expect(message).toContain(`spec.${field}`);
    expect(message).toMatch(/platform-owned/);
  });

  it.each([
    ['namespace', 'other-ns'],
    ['roleArn', 'arn:aws:iam::111122223333:role/admin'],
  ])('spec.consumers[0].%s is refused, naming the field', async (field, value) => {
    const message = await fatal((spec) => {
      firstConsumer(spec)[field] = value;
    });
    expect(message).toContain(`spec.consumers[0].${field}`);
  });
});
