// One hardening path for every bucket and key the platform creates (issue: the replica had drifted
// from the source). Request matrices with the IAM simulator over the converged policies of every
// bucket the examples create, replicas included; the permissions boundaries the platform defines.
import { describe, expect, it } from '@jest/globals';
import { boundaryResources, nodeBoundaryDocument, readEnvironment, tenantWorkloadBoundaryDocument } from '../../functions/secure-bucket/src/core/index.js';
import { boundariesYaml, clusterDirs } from '../../tools/platform-iam.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { exampleClaim } from '../lib/function-fixtures.js';
import { repoRoot } from '../lib/repo.js';
import {
  allowAll,
  environmentData,
  evaluateS3,
  exampleBucketSets,
  paths,
  policySetFor,
  simulate,
  type Caller,
  type PolicyJson,
  type PolicySet,
  type Target,
} from '../lib/simulate.js';

const DATA: Array<[string, Target]> = [
  ['s3:GetObject', { kind: 'object', key: 'audit/2026/01/01.json' }],
  ['s3:PutObject', { kind: 'object', key: 'audit/2026/01/01.json' }],
  ['s3:DeleteObject', { kind: 'object', key: 'audit/2026/01/01.json' }],
  ['s3:DeleteObjectVersion', { kind: 'object', key: 'audit/2026/01/01.json' }],
  ['s3:GetObjectAttributes', { kind: 'object', key: 'audit/2026/01/01.json' }],
  ['s3:ListBucketVersions', { kind: 'bucket' }],
];
/** Listing keys: the node never, the provider through the endpoint (HeadBucket, its existence check, needs s3:ListBucket). */
const LIST: [string, Target] = ['s3:ListBucket', { kind: 'bucket', listPrefix: '' }];
const CONFIGURATION: Array<[string, Target]> = [
  ['s3:PutBucketPolicy', { kind: 'bucket' }],
  ['s3:DeleteBucketPolicy', { kind: 'bucket' }],
  ['s3:PutLifecycleConfiguration', { kind: 'bucket' }],
  ['s3:PutEncryptionConfiguration', { kind: 'bucket' }],
  ['s3:PutBucketVersioning', { kind: 'bucket' }],
  ['s3:PutBucketPublicAccessBlock', { kind: 'bucket' }],
  ['s3:PutBucketTagging', { kind: 'bucket' }],
];
const overGranted = (id: string, arn: string): Caller => ({ id, arn, identityPolicies: [allowAll('S3AndKms', ['s3:*', 'kms:*'])] });
const NETWORK = (set: PolicySet) => [paths.internet('1.3'), paths.endpoint(set.minimumTls)];

describe.each(exampleBucketSets())('every bucket the claim creates: $file', ({ set }) => {
  const node = overGranted('node', set.env.access.nodeRoleArn as string);
  const provider = overGranted('provider', set.env.access.providerRoleArn);

  it('a node role with s3:* and kms:*, from the internet or the endpoint, gets no data and no configuration action', async () => {
    for (const path of NETWORK(set)) {
      for (const [action, target] of [...DATA, LIST, ...CONFIGURATION]) {
        expect([path.id, action, (await evaluateS3(set, { caller: node, action, target, path })).allowed]).toEqual([path.id, action, false]);
      }
    }
  });

  it('the provider manages the configuration from outside the endpoint, and never reads, writes or lists data', async () => {
    for (const path of NETWORK(set)) {
      for (const [action, target] of DATA) {
        const d = await evaluateS3(set, { caller: provider, action, target, path });
        expect([path.id, action, d.allowed, d.decidedBy]).toEqual([path.id, action, false, expect.stringMatching(/^bucket:Deny(Objects|Listing)ToProvider$/)]);
      }
    }
    for (const [action, target] of CONFIGURATION)
      expect([action, (await evaluateS3(set, { caller: provider, action, target, path: paths.internet('1.3') })).allowed]).toEqual([action, true]);
    // Listing (HeadBucket) through the endpoint the provider runs behind; from the internet only on a
    // bucket outside the endpoint's region (the replica: README, "What the provider can see").
    expect((await evaluateS3(set, { caller: provider, action: LIST[0], target: LIST[1], path: paths.endpoint(set.minimumTls) })).allowed).toBe(true);
    expect((await evaluateS3(set, { caller: provider, action: LIST[0], target: LIST[1], path: paths.internet('1.3') })).allowed).toBe(
      set.region !== set.env.region,
    );
  });

  it('break-glass keeps full access to read in an emergency, from anywhere', async () => {
    const breakGlass = overGranted('break-glass', set.env.access.breakGlassPrincipalArns[0] as string);
    for (const path of NETWORK(set))
      expect((await evaluateS3(set, { caller: breakGlass, action: 's3:GetObject', target: DATA[0]![1], path })).allowed).toBe(true);
  });

  it("uploads asking for aws:kms without a key id are denied (S3 would use the account's aws/s3 key)", async () => {
    const d = await evaluateS3(set, {
      caller: overGranted('break-glass', set.env.access.breakGlassPrincipalArns[0] as string),
      action: 's3:PutObject',
      target: DATA[1]![1],
      path: paths.endpoint(set.minimumTls),
      encryption: 'kms-no-key-id',
    });
    expect(d).toMatchObject({ allowed: false, decidedBy: 'bucket:DenyKmsWithoutKeyId' });
  });
});

describe("uploads always use the bucket's key (a writing consumer)", () => {
  const set = policySetFor(exampleClaim('scratch'));
  const writer = set.consumers.find((c) => c.access !== 'Read')!;
  const caller: Caller = { id: writer.name, arn: writer.roleArn, identityPolicies: [{ name: 'bucket-access', policy: writer.accessPolicy }] };
  const put = (encryption: 'default' | 'kms-bucket-key' | 'kms-no-key-id' | 'kms-other-key') =>
    evaluateS3(set, {
      caller,
      action: 's3:PutObject',
      target: { kind: 'object', key: `${writer.prefixes[0]}x.json` },
      path: paths.endpoint(set.minimumTls),
      encryption,
    });

  it('no encryption headers (the bucket default) and this key by id are allowed; aws:kms alone and another key are denied', async () => {
    expect(await put('default')).toMatchObject({ allowed: true });
    expect(await put('kms-bucket-key')).toMatchObject({ allowed: true });
    expect(await put('kms-no-key-id')).toMatchObject({ allowed: false, decidedBy: 'bucket:DenyKmsWithoutKeyId' });
    expect(await put('kms-other-key')).toMatchObject({ allowed: false, decidedBy: 'bucket:DenyForeignKmsKeys' });
  });
});

describe('the permissions boundaries exist, and hold', () => {
  const env = readEnvironment(environmentData());
  const tenantBoundary = { name: 'tenant-workload-boundary', policy: tenantWorkloadBoundaryDocument(env) as unknown as PolicyJson };
  const nodeBoundary = { name: 'node-boundary', policy: nodeBoundaryDocument(env) as unknown as PolicyJson };
  const context = (arn: string) => ({ 'aws:PrincipalArn': arn, 'aws:PrincipalAccount': env.accountId, 'aws:SecureTransport': 'true' });
  // AWS-owned buckets (ECR's layers) grant through their own policy: stood in for by an owner that allows.
  const OWNER_ALLOWS: PolicyJson = {
    Version: '2012-10-17',
    Statement: [{ Sid: 'OwnerAllows', Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' }],
  };
  const identityOnly = (caller: Caller, action: string, resource: string, account = env.accountId) =>
    simulate(
      caller,
      action,
      {
        resourcePolicyName: 'owner',
        ...(account === env.accountId ? {} : { resourcePolicy: OWNER_ALLOWS }),
        resource,
        resourceAccount: account,
        identity: true,
        endpoint: false,
      },
      context(caller.arn as string),
    );

  it('every role the function renders carries the boundary, the replication role included', () => {
    const roles = exampleBucketSets().flatMap(({ set }) => Object.values(set.resources).filter((r) => r.kind === 'Role'));
    expect(
      roles.some(
        (r) =>
          r.metadata.annotations?.['crossplane.io/external-name']?.endsWith('replication') ||
          String(r.metadata.annotations?.['crossplane.io/external-name']).includes('-replication-'),
      ),
    ).toBe(true);
    for (const r of roles)
      expect([r.metadata.annotations?.['crossplane.io/external-name'], (r.spec['forProvider'] as Record<string, unknown>)['permissionsBoundary']]).toEqual([
        r.metadata.annotations?.['crossplane.io/external-name'],
        env.identity.permissionsBoundaryArn,
      ]);
  });

  it("the platform layer defines both boundaries: each cluster's committed iam-boundaries.yaml is what the builder makes, under the ARN the roles name", () => {
    const dirs = clusterDirs(repoRoot);
    expect(dirs.length).toBeGreaterThan(0);
    for (const dir of dirs) {
      const file = path.join(dir, 'platform', 'iam-boundaries.yaml');
      expect([file, readFileSync(file, 'utf8')]).toEqual([file, boundariesYaml(repoRoot, dir)]);
      expect(readFileSync(path.join(dir, 'platform', 'kustomization.yaml'), 'utf8')).toContain('iam-boundaries.yaml');
    }
    const [tenant] = boundaryResources(env);
    expect(
      `arn:aws:iam::${env.accountId}:policy${String(tenant!.spec['forProvider'] && (tenant!.spec['forProvider'] as Record<string, unknown>)['path'])}${tenant!.metadata.name}`,
    ).toBe(env.identity.permissionsBoundaryArn);
  });

  it('a tenant role given s3:*, kms:* and iam:* still reaches only platform data and bucket keys via S3', async () => {
    const role: Caller = {
      id: 'greedy-tenant',
      arn: `arn:aws:iam::${env.accountId}:role/secure-bucket/x`,
      identityPolicies: [allowAll('Everything', ['s3:*', 'kms:*', 'iam:*', 'sts:*'])],
      boundary: tenantBoundary,
    };
    expect((await identityOnly(role, 's3:GetObject', `arn:aws:s3:::${env.bucketNamePrefix}-team-sales-x/a`)).allowed).toBe(true);
    expect((await identityOnly(role, 's3:GetObject', 'arn:aws:s3:::not-the-platform/a')).allowed).toBe(false);
    // The platform's audit buckets match the prefix but hold every tenant's logs and listings.
    for (const bucket of [env.audit.inventoryBucket, env.audit.logBucket]) {
      expect([bucket, (await identityOnly(role, 's3:GetObject', `arn:aws:s3:::${bucket}/team-inventory/x`)).allowed]).toEqual([bucket, false]);
    }
    expect((await identityOnly(role, 's3:PutBucketPolicy', `arn:aws:s3:::${env.bucketNamePrefix}-team-sales-x`)).allowed).toBe(false);
    expect((await identityOnly(role, 'iam:CreateRole', `arn:aws:iam::${env.accountId}:role/escalate`)).allowed).toBe(false);
    expect((await identityOnly(role, 'kms:Decrypt', `arn:aws:kms:${env.region}:${env.accountId}:key/00000000-0000-0000-0000-000000000000`)).allowed).toBe(
      false,
    );
  });

  it('the node role under its boundary: denied every tenant bucket even with s3:* and kms:*, no IAM change, image pulls still work', async () => {
    const nodeArn = env.access.nodeRoleArn as string;
    const node: Caller = {
      ...overGranted('node', nodeArn),
      identityPolicies: [allowAll('NodeEverything', ['s3:*', 'kms:*', 'iam:*', 'ecr:*', 'ec2:*', 'eks-auth:*'])],
      boundary: nodeBoundary,
    };
    for (const { set } of exampleBucketSets()) {
      for (const pathway of NETWORK(set)) {
        for (const [action, target] of [...DATA, LIST, ...CONFIGURATION]) {
          expect([set.bucketName, action, (await evaluateS3(set, { caller: node, action, target, path: pathway })).allowed]).toEqual([
            set.bucketName,
            action,
            false,
          ]);
        }
      }
    }
    for (const [action, resource] of [
      ['iam:CreateRole', `arn:aws:iam::${env.accountId}:role/x`],
      ['iam:AttachRolePolicy', nodeArn],
      ['s3:GetObject', `arn:aws:s3:::${env.bucketNamePrefix}-team-sales-x/a`],
    ] as const) {
      expect([action, (await identityOnly(node, action, resource)).allowed]).toEqual([action, false]);
    }
    expect((await identityOnly(node, 's3:GetObject', `arn:aws:s3:::prod-${env.region}-starport-layer-bucket/sha256/abc`, '000000000000')).allowed).toBe(true);
    expect((await identityOnly(node, 'ecr:BatchGetImage', `arn:aws:ecr:${env.region}:${env.accountId}:repository/app`)).allowed).toBe(true);
    // The Pod Identity agent's exchange, and the EBS CSI's volume checks, still work under the boundary.
    expect(
      (await identityOnly(node, 'eks-auth:AssumeRoleForPodIdentity', `arn:aws:eks:${env.region}:${env.accountId}:cluster/${env.clusterName}`)).allowed,
    ).toBe(true);
    expect(
      (await identityOnly(node, 'ec2:CreateNetworkInterface', `arn:aws:ec2:${env.region}:${env.accountId}:network-interface/eni-0123456789abcdef0`)).allowed,
    ).toBe(true);
  });
});
