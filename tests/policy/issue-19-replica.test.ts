// Issue 19 (security review), findings 3, 5, 7, 8 and 11: each proven by a test named after it, with
// the IAM simulator where it is a policy and the simulated account where it is adoption.
import { describe, expect, it } from '@jest/globals';
import { providerRolePolicyDocument, readEnvironment } from '../../functions/secure-bucket/src/core/index.js';
import { diffClaim } from '../../functions/secure-bucket/cli/explain/access-diff.js';
import { formatDiffMarkdown } from '../../functions/secure-bucket/cli/explain/diff-report.js';
import { OWNER_ACCOUNT_KEY } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { environmentConfig, exampleClaim, withSpec, type Json } from '../lib/function-fixtures.js';
import { accountHolding, fp, render, renderOk, statementsOf } from '../function/protection-fixtures.js';
import { environmentData, evaluateS3, paths, platformBoundary, policySetFor, simulate, type Caller, type PolicyJson } from '../lib/simulate.js';

const archive = exampleClaim('audit-archive');
const env = readEnvironment(environmentData());
const OTHER_ACCOUNT = '999988887777';
const PLATFORM_TOPIC = env.alarms.snsTopicArn as string;
const externalName = (r: Json): string => String(((r['metadata'] as Json)['annotations'] as Json)['crossplane.io/external-name']);

/** The replication role as AWS holds it: its inline policy under the platform boundary. */
async function replicationRole(): Promise<{ caller: Caller; replica: string }> {
  const r = await renderOk(archive);
  const role = fp(r, 'replication-role');
  const policy = JSON.parse((role['inlinePolicy'] as Array<{ policy: string }>)[0]!.policy) as PolicyJson;
  const arn = `arn:aws:iam::${env.accountId}:role${String(role['path'])}${externalName(r['replication-role']!)}`;
  return {
    caller: { id: 'replication', arn, identityPolicies: [{ name: 'replication', policy }], boundary: platformBoundary(env) },
    replica: externalName(r['replica-bucket']!),
  };
}

describe('finding 3: the replica is pinned to the platform account', () => {
  const EVERYONE: PolicyJson = {
    Version: '2012-10-17',
    Statement: [{ Sid: 'AdmitsEveryone', Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' }],
  };
  const replicate = (caller: Caller, bucket: string, account: string, resourcePolicy?: PolicyJson) =>
    simulate(
      caller,
      's3:ReplicateObject',
      {
        resourcePolicyName: 'replica',
        ...(resourcePolicy ? { resourcePolicy } : {}),
        resource: `arn:aws:s3:::${bucket}/audit/2026/01/01.json`,
        resourceAccount: account,
        identity: true,
        endpoint: false,
      },
      { 'aws:PrincipalArn': caller.arn as string, 'aws:PrincipalAccount': env.accountId, 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3' },
    );

  it('finding 3: the replication role writing to a same-named bucket of another account whose policy admits everyone is denied', async () => {
    const { caller, replica } = await replicationRole();
    // The real replica (this account) is still written.
    expect((await replicate(caller, replica, env.accountId)).allowed).toBe(true);
    const planted = await replicate(caller, replica, OTHER_ACCOUNT, EVERYONE);
    expect(planted).toMatchObject({ allowed: false });
    // Either ceiling alone holds: the role's own policy, and the boundary.
    const s3Star: PolicyJson = { Version: '2012-10-17', Statement: [{ Sid: 'All', Effect: 'Allow', Action: 's3:*', Resource: '*' }] };
    expect((await replicate({ ...caller, boundary: { name: 'no-ceiling', policy: s3Star } }, replica, OTHER_ACCOUNT, EVERYONE)).allowed).toBe(false);
    const greedy: Caller = { ...caller, identityPolicies: [{ name: 'greedy', policy: s3Star }] };
    expect((await replicate(greedy, replica, OTHER_ACCOUNT, EVERYONE)).allowed).toBe(false);
  });

  it("finding 3: the replication rule names the destination account with owner override; the replica's configurations expect the owner", async () => {
    const r = await renderOk(archive);
    const destination = ((fp(r, 'bucket-replication')['rule'] as Json[])[0]!['destination'] ?? {}) as Json;
    expect(destination).toMatchObject({ account: env.accountId, accessControlTranslation: { owner: 'Destination' } });
    for (const part of ['replica-versioning', 'replica-encryption', 'replica-lifecycle', 'replica-object-lock', 'replica-logging']) {
      expect([part, fp(r, part)['expectedBucketOwner']]).toEqual([part, env.accountId]);
    }
  });

  it("finding 3: a replica bucket planted in another account with this claim's tags is refused, never adopted", async () => {
    // What the claim's own replica would look like, tags included (any bucket owner can set them).
    const first = accountHolding();
    const r = await renderOk(archive, environmentConfig(), first);
    const replica = externalName(r['replica-bucket']!);
    const planted = { ...structuredClone(first.state['Bucket']![replica]!), [OWNER_ACCOUNT_KEY]: OTHER_ACCOUNT };
    const out = await render(archive, environmentConfig(), { Bucket: { [replica]: planted } });
    expect(out.fatal).toMatch(new RegExp(`^spec\\.replication\\.destinationRegion: s3://${replica} is not proven to be in account ${env.accountId}`));
    // The same bucket in this account (a replica the claim left behind) is still taken over.
    const own = await render(archive, environmentConfig(), { Bucket: { [replica]: { ...planted, [OWNER_ACCOUNT_KEY]: env.accountId } } });
    expect(own.fatal).toBeUndefined();
  });
});

describe('finding 5: change alerts always reach the platform topic', () => {
  const tenantTopic = `arn:aws:sns:${env.region}:${env.accountId}:team-inventory-alerts`;
  const withTopic = withSpec(archive, (s) => (s['alarms'] = { snsTopicArn: tenantTopic }));

  it('finding 5: a tenant topic in alarms.snsTopicArn is an extra target, never a replacement of the platform topic', async () => {
    const r = await renderOk(withTopic);
    const targets = Object.values(r)
      .filter((x) => x['kind'] === 'Target')
      .map((x) => (x['spec'] as Json)['forProvider'] as Json);
    const rules = [...new Set(targets.map((t) => String(t['rule'])))];
    expect(rules.length).toBeGreaterThanOrEqual(2);
    for (const rule of rules) {
      const arns = targets.filter((t) => t['rule'] === rule).map((t) => t['arn']);
      const region = String(targets.find((t) => t['rule'] === rule)!['region']);
      const platform = region === env.region ? PLATFORM_TOPIC : env.alarms.snsTopicArnsByRegion?.[region];
      expect([rule, arns.includes(platform)]).toEqual([rule, true]);
    }
    expect(targets.filter((t) => t['arn'] === tenantTopic).length).toBeGreaterThan(0);
  });

  it('finding 5: --diff-access reports where change alerts go, and flags a removed route', async () => {
    const base = policySetFor(archive);
    const head = policySetFor(withTopic);
    const diff = await diffClaim('team-inventory/audit-archive', base, head);
    expect(diff.alerts.removed).toEqual([]);
    expect(diff.alerts.added.length).toBeGreaterThan(0);
    expect(diff.alerts.added.every((route) => route.endsWith(` -> ${tenantTopic}`))).toBe(true);
    // A head that moved the route off the platform topic (today's behaviour) is flagged.
    const moved = structuredClone(head);
    for (const res of Object.values(moved.resources)) if (res.kind === 'Target') delete (res.spec['forProvider'] as Json)['arn'];
    const flagged = await diffClaim('team-inventory/audit-archive', base, moved);
    expect(flagged.alerts.removed.some((route) => route.endsWith(` -> ${PLATFORM_TOPIC}`))).toBe(true);
    expect(formatDiffMarkdown([flagged])).toMatch(/change-alert route\(s\) removed/);
  });
});

describe('finding 7: the replica and its key are watched in their own region', () => {
  it("finding 7: the replica and its key get change alerts in the replica's region, to the platform topic there", async () => {
    const r = await renderOk(archive);
    const replica = externalName(r['replica-bucket']!);
    const region = String(fp(r, 'replica-bucket')['region']);
    const topic = env.alarms.snsTopicArnsByRegion?.[region];
    expect(topic).toMatch(new RegExp(`^arn:aws:sns:${region}:${env.accountId}:`));
    const rule = fp(r, 'replica-change-alerts');
    expect(rule['region']).toBe(region);
    expect(JSON.parse(String(rule['eventPattern'])).detail.requestParameters.bucketName).toEqual([replica]);
    // The same rule as the source's, from the same builder: only the bucket differs.
    const source = JSON.parse(String(fp(r, 'bucket-change-alerts')['eventPattern']));
    expect(JSON.parse(String(rule['eventPattern'])).detail.eventName).toEqual(source.detail.eventName);
    const keyRule = fp(r, 'replica-key-change-alerts');
    expect(keyRule['region']).toBe(region);
    const replicaKeyArn = (((fp(r, 'bucket-replication')['rule'] as Json[])[0]!['destination'] as Json)['encryptionConfiguration'] as Json)['replicaKmsKeyId'];
    expect(JSON.parse(String(keyRule['eventPattern'])).detail.resources.ARN).toEqual([replicaKeyArn]);
    for (const t of ['replica-change-alerts-target', 'replica-key-change-alerts-target']) expect(fp(r, t)).toMatchObject({ region, arn: topic });
  });

  it('finding 7: a replica region without a platform topic is refused, naming the EnvironmentConfig field', async () => {
    const out = await render(
      archive,
      environmentConfig((d) => delete (d['alarms'] as Json)['snsTopicArnsByRegion']),
    );
    expect(out.fatal).toMatch(
      /^spec\.replication\.destinationRegion: the platform has no alert topic in eu-west-1 \(EnvironmentConfig data\.alarms\.snsTopicArnsByRegion\.eu-west-1\)/,
    );
  });
});

describe('finding 8: the provider lists keys only from inside the cluster', () => {
  it("finding 8: the provider cannot list a bucket's object keys from the internet, only through the VPC endpoint", async () => {
    for (const claim of ['scratch', 'sales-events', 'audit-archive']) {
      const set = policySetFor(exampleClaim(claim));
      const provider: Caller = {
        id: 'provider',
        arn: env.access.providerRoleArn,
        identityPolicies: [{ name: 'all', policy: { Version: '2012-10-17', Statement: [{ Sid: 'All', Effect: 'Allow', Action: ['s3:*'], Resource: '*' }] } }],
      };
      for (const listPrefix of ['', 'sales_event/']) {
        const internet = await evaluateS3(set, {
          caller: provider,
          action: 's3:ListBucket',
          target: { kind: 'bucket', listPrefix },
          path: paths.internet('1.3'),
        });
        expect([claim, listPrefix, internet]).toEqual([
          claim,
          listPrefix,
          expect.objectContaining({ allowed: false, decidedBy: 'bucket:DenyProviderListingOutsideVpcEndpoint' }),
        ]);
        // HeadBucket (s3:ListBucket too) still works where the provider runs: behind the endpoint.
        expect(
          (await evaluateS3(set, { caller: provider, action: 's3:ListBucket', target: { kind: 'bucket', listPrefix }, path: paths.endpoint(set.minimumTls) }))
            .allowed,
        ).toBe(true);
      }
      for (const action of ['s3:ListBucketVersions', 's3:ListBucketMultipartUploads']) {
        for (const path of [paths.internet('1.3'), paths.endpoint(set.minimumTls)])
          expect([claim, action, path.id, (await evaluateS3(set, { caller: provider, action, target: { kind: 'bucket' }, path })).allowed]).toEqual([
            claim,
            action,
            path.id,
            false,
          ]);
      }
    }
  });
});

describe('finding 11: the provider role policy ships in the repo and cannot create a role without the boundary', () => {
  const providerPolicy = { name: 'provider-role-policy', policy: providerRolePolicyDocument(env) as unknown as PolicyJson };
  const provider: Caller = { id: 'provider', arn: env.access.providerRoleArn, identityPolicies: [providerPolicy] };
  const role = `arn:aws:iam::${env.accountId}:role${env.identity.rolePath}staging-team-sales-x`;
  const iam = (caller: Caller, action: string, resource: string, keys: Record<string, string> = {}) =>
    simulate(
      caller,
      action,
      { resourcePolicyName: 'iam', resource, resourceAccount: env.accountId, identity: true, endpoint: false },
      { 'aws:PrincipalArn': caller.arn as string, 'aws:PrincipalAccount': env.accountId, 'aws:SecureTransport': 'true', ...keys },
    );
  const boundary = env.identity.permissionsBoundaryArn;
  const other = `arn:aws:iam::${env.accountId}:policy/AdministratorAccess-lookalike`;

  it('finding 11: CreateRole without a boundary or with another boundary is denied; with the platform boundary it is allowed', async () => {
    expect(await iam(provider, 'iam:CreateRole', role, { 'iam:PermissionsBoundary': boundary })).toMatchObject({ allowed: true });
    expect(await iam(provider, 'iam:CreateRole', role)).toMatchObject({ allowed: false, decidedBy: 'role:DenyRolesWithoutPlatformBoundary' });
    expect(await iam(provider, 'iam:CreateRole', role, { 'iam:PermissionsBoundary': other })).toMatchObject({
      allowed: false,
      decidedBy: 'role:DenyRolesWithoutPlatformBoundary',
    });
    expect(await iam(provider, 'iam:PutRolePermissionsBoundary', role, { 'iam:PermissionsBoundary': other })).toMatchObject({ allowed: false });
    expect(await iam(provider, 'iam:PutRolePermissionsBoundary', role, { 'iam:PermissionsBoundary': boundary })).toMatchObject({ allowed: true });
  });

  it('finding 11: the boundary never comes off, and roles without it are never changed (even with iam:* beside the shipped policy)', async () => {
    const greedy: Caller = {
      ...provider,
      identityPolicies: [
        providerPolicy,
        { name: 'iam-star', policy: { Version: '2012-10-17', Statement: [{ Sid: 'IamStar', Effect: 'Allow', Action: 'iam:*', Resource: '*' }] } },
      ],
    };
    for (const caller of [provider, greedy]) {
      expect((await iam(caller, 'iam:DeleteRolePermissionsBoundary', role, { 'iam:PermissionsBoundary': boundary })).allowed).toBe(false);
      expect(
        (
          await iam(caller, 'iam:AttachRolePolicy', role, {
            'iam:PermissionsBoundary': boundary,
            'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess',
          })
        ).allowed,
      ).toBe(false);
      for (const action of ['iam:PutRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:DeleteRolePolicy']) {
        expect([action, (await iam(caller, action, role)).allowed]).toEqual([action, false]);
        expect([action, (await iam(caller, action, role, { 'iam:PermissionsBoundary': other })).allowed]).toEqual([action, false]);
        expect([action, (await iam(caller, action, role, { 'iam:PermissionsBoundary': boundary })).allowed]).toEqual([action, true]);
      }
      expect((await iam(caller, 'iam:DeletePolicy', boundary)).allowed).toBe(false);
      expect((await iam(caller, 'iam:SetDefaultPolicyVersion', boundary)).allowed).toBe(false);
    }
    // The shipped policy alone: no other policy's versions, no roles outside the platform path.
    expect((await iam(provider, 'iam:CreatePolicyVersion', other)).allowed).toBe(false);
    expect((await iam(provider, 'iam:CreateRole', `arn:aws:iam::${env.accountId}:role/escalate`, { 'iam:PermissionsBoundary': boundary })).allowed).toBe(false);
  });

  it('red team: the provider cannot rewrite a boundary (CreatePolicyVersion with SetAsDefault needs no SetDefaultPolicyVersion), even with iam:* beside it', async () => {
    // A new default version of the tenant boundary (s3:* on *) would widen every role under it, and
    // the provider may then give such a role any trust policy: the boundary would hold nothing.
    const greedy: Caller = {
      ...provider,
      identityPolicies: [
        providerPolicy,
        { name: 'iam-star', policy: { Version: '2012-10-17', Statement: [{ Sid: 'IamStar', Effect: 'Allow', Action: 'iam:*', Resource: '*' }] } },
      ],
    };
    const node = `arn:aws:iam::${env.accountId}:policy/platform/${env.clusterName}-eks-node-boundary`;
    for (const caller of [provider, greedy]) {
      for (const target of [boundary, node]) {
        for (const action of ['iam:CreatePolicyVersion', 'iam:DeletePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:DeletePolicy']) {
          expect([caller.identityPolicies.length, target, action, (await iam(caller, action, target)).allowed]).toEqual([
            caller.identityPolicies.length,
            target,
            action,
            false,
          ]);
        }
      }
    }
    // It still creates a missing boundary and reads them (the Policy objects' first apply and observe).
    for (const action of ['iam:CreatePolicy', 'iam:GetPolicy', 'iam:GetPolicyVersion', 'iam:ListPolicyVersions'])
      expect([action, (await iam(provider, action, boundary)).allowed]).toEqual([action, true]);
  });

  it('finding 11: the committed provider-role-policy.json of each cluster is what the builder makes', async () => {
    const { clusterDirs, providerPolicyJson, PROVIDER_POLICY_FILE } = await import('../../tools/platform-iam.js');
    const { readFileSync } = await import('node:fs');
    const path = await import('node:path');
    const { repoRoot } = await import('../lib/repo.js');
    for (const dir of clusterDirs(repoRoot)) {
      const file = path.join(dir, 'platform', PROVIDER_POLICY_FILE);
      expect([file, readFileSync(file, 'utf8')]).toEqual([file, providerPolicyJson(repoRoot, dir)]);
      const sids = statementsOf(readFileSync(file, 'utf8')).map((s) => s.Sid);
      expect(sids).toEqual(
        expect.arrayContaining(['CreateRolesWithPlatformBoundary', 'DenyRolesWithoutPlatformBoundary', 'DenyBoundaryRemovalAndManagedPolicies']),
      );
    }
  });
});

describe('issue 19 red team: a hostile tenant', () => {
  it('a tenant role (iam:* and sts:* granted) cannot rewrite, detach or delete the boundary that holds it', async () => {
    const tenant: Caller = {
      id: 'tenant',
      arn: `arn:aws:iam::${env.accountId}:role${env.identity.rolePath}staging-team-sales-x`,
      identityPolicies: [
        { name: 'all', policy: { Version: '2012-10-17', Statement: [{ Sid: 'All', Effect: 'Allow', Action: ['iam:*', 'sts:*', 's3:*'], Resource: '*' }] } },
      ],
      boundary: platformBoundary(env),
    };
    const keys = { 'aws:PrincipalArn': tenant.arn as string, 'aws:PrincipalAccount': env.accountId, 'aws:SecureTransport': 'true' };
    const iam = (action: string, resource: string) =>
      simulate(tenant, action, { resourcePolicyName: 'iam', resource, resourceAccount: env.accountId, identity: true, endpoint: false }, keys);
    for (const [action, resource] of [
      ['iam:CreatePolicyVersion', env.identity.permissionsBoundaryArn],
      ['iam:SetDefaultPolicyVersion', env.identity.permissionsBoundaryArn],
      ['iam:DeleteRolePermissionsBoundary', tenant.arn as string],
      ['iam:CreateRole', `arn:aws:iam::${env.accountId}:role/escape`],
      ['iam:AttachRolePolicy', tenant.arn as string],
      ['iam:PutRolePolicy', tenant.arn as string],
      ['iam:UpdateAssumeRolePolicy', tenant.arn as string],
    ] as const) {
      expect([action, (await iam(action, resource)).allowed]).toEqual([action, false]);
    }
  });

  it("a tenant topic of another account or region, or another tenant's, is refused; the platform topic stays a target whatever the tenant names", async () => {
    for (const arn of [
      `arn:aws:sns:${env.region}:${OTHER_ACCOUNT}:team-inventory-x`,
      `arn:aws:sns:eu-west-1:${env.accountId}:team-inventory-x`,
      `arn:aws:sns:${env.region}:${env.accountId}:platform-s3-alerts-shadow`,
    ]) {
      expect([arn, (await render(withSpec(archive, (s) => (s['alarms'] = { snsTopicArn: arn })))).fatal]).toEqual([
        arn,
        expect.stringMatching(/^spec\.alarms\.snsTopicArn: /),
      ]);
    }
    // A topic that does not exist takes nothing away: the platform target stays.
    const r = await renderOk(
      withSpec(archive, (s) => (s['alarms'] = { snsTopicArn: `arn:aws:sns:${env.region}:${env.accountId}:team-inventory-does-not-exist` })),
    );
    expect(fp(r, 'bucket-change-alerts-target')['arn']).toBe(PLATFORM_TOPIC);
  });
});
