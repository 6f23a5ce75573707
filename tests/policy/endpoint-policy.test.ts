// The S3 gateway endpoint's policy: this account's principals on this platform's buckets (owned by
// this account) and access points, and still what EKS needs through the same endpoint (ECR layers).
import { describe, expect, it } from '@jest/globals';
import { awsManagedReadBuckets } from '../../functions/secure-bucket/src/core/index.js';
import { allowAll, examplePolicySets, simulate, type Caller, type PolicySet } from '../lib/simulate.js';

const OTHER_ACCOUNT = '999988887777';
// A stand-in for the AWS-owned account of ECR's layer bucket.
const AWS_SERVICE_ACCOUNT = '000000000000';
const OWNER_ALLOWS = { Version: '2012-10-17', Statement: [{ Sid: 'OwnerAllows', Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' }] };

async function throughEndpoint(set: PolicySet, caller: Caller, action: string, resource: string, resourceAccount: string) {
  const context: Record<string, string> = {
    'aws:SecureTransport': 'true',
    's3:TlsVersion': '1.2',
    'aws:SourceVpce': set.endpointId,
    'aws:SourceVpc': set.env.network.vpcId,
    'aws:PrincipalArn': caller.arn as string,
    'aws:PrincipalAccount': (caller.arn as string).split(':')[4] as string,
  };
  // The bucket's owner is assumed to allow (as ECR's layer bucket does for pulls): only the
  // endpoint policy is judged here; the bucket's own policy has tests of its own.
  return simulate(
    caller,
    action,
    { resourcePolicyName: 'owner', resourcePolicy: OWNER_ALLOWS, resource, resourceAccount, identity: true, endpoint: true },
    context,
    set.endpointPolicy,
  );
}

describe.each(
  [...examplePolicySets('irsa-shared-endpoint'), ...examplePolicySets('pod-identity-dedicated-endpoint')].map((x) => ({
    ...x,
    label: `${x.file} (${x.set.env.network.endpoint.mode} endpoint)`,
  })),
)('endpoint policy for $label', ({ set }) => {
  const node: Caller = { id: 'node', arn: set.env.access.nodeRoleArn as string, identityPolicies: [allowAll('NodeS3', ['s3:*'])] };
  const layerBucket = `arn:aws:s3:::prod-${set.region}-starport-layer-bucket`;

  it('an EKS node pulling an image layer (ECR keeps layers in S3) is allowed through the endpoint', async () => {
    expect(await throughEndpoint(set, node, 's3:GetObject', `${layerBucket}/sha256/abc`, AWS_SERVICE_ACCOUNT)).toMatchObject({ allowed: true });
  });

  it('whoever signed the layer URL: the layer statement names no principal', async () => {
    const ecr: Caller = {
      id: 'ecr',
      arn: `arn:aws:iam::${AWS_SERVICE_ACCOUNT}:role/ecr-layer-signer`,
      identityPolicies: [allowAll('EcrS3', ['s3:GetObject'])],
    };
    expect(await throughEndpoint(set, ecr, 's3:GetObject', `${layerBucket}/sha256/abc`, AWS_SERVICE_ACCOUNT)).toMatchObject({ allowed: true });
  });

  it('but nothing else on the layer bucket (no writes, no listing)', async () => {
    expect(await throughEndpoint(set, node, 's3:PutObject', `${layerBucket}/x`, AWS_SERVICE_ACCOUNT)).toMatchObject({
      allowed: false,
      decidedBy: 'endpoint:no-allow',
    });
    expect(await throughEndpoint(set, node, 's3:ListBucket', layerBucket, AWS_SERVICE_ACCOUNT)).toMatchObject({
      allowed: false,
      decidedBy: 'endpoint:no-allow',
    });
  });

  it('nodes keep working: Amazon Linux package repositories and the SSM Agent buckets are readable, never writable', async () => {
    const buckets = awsManagedReadBuckets(set.region);
    expect(buckets).toEqual(
      expect.arrayContaining([
        `al2023-repos-${set.region}-de612dc2`,
        `amazonlinux-2-repos-${set.region}`,
        `amazon-ssm-${set.region}`,
        `amazon-ssm-packages-${set.region}`,
      ]),
    );
    for (const b of buckets) {
      expect([b, (await throughEndpoint(set, node, 's3:GetObject', `arn:aws:s3:::${b}/repodata/repomd.xml`, AWS_SERVICE_ACCOUNT)).allowed]).toEqual([b, true]);
      expect([b, (await throughEndpoint(set, node, 's3:PutObject', `arn:aws:s3:::${b}/x`, AWS_SERVICE_ACCOUNT)).allowed]).toEqual([b, false]);
    }
    // Only this account's principals: outside credentials used inside the VPC get no channel there.
    const outsider: Caller = { id: 'outsider', arn: `arn:aws:iam::${OTHER_ACCOUNT}:role/x`, identityPolicies: [allowAll('S3', ['s3:*'])] };
    expect((await throughEndpoint(set, outsider, 's3:GetObject', `arn:aws:s3:::${buckets[0]}/x`, AWS_SERVICE_ACCOUNT)).allowed).toBe(false);
    // A region's repository is not another region's.
    expect((await throughEndpoint(set, node, 's3:GetObject', 'arn:aws:s3:::al2023-repos-ap-south-1-de612dc2/x', AWS_SERVICE_ACCOUNT)).allowed).toBe(false);
  });

  it('writes to any bucket outside this platform and account stay denied', async () => {
    for (const [resource, account] of [
      ['arn:aws:s3:::somebody-elses-bucket/x', OTHER_ACCOUNT],
      [`arn:aws:s3:::not-the-platform-${set.env.accountId}/x`, set.env.accountId],
    ] as const) {
      expect(await throughEndpoint(set, node, 's3:PutObject', resource, account)).toMatchObject({ allowed: false });
    }
  });

  it("this account's principals reach this account's buckets and access points", async () => {
    expect(await throughEndpoint(set, node, 's3:GetObject', `${set.bucketArn}/x`, set.env.accountId)).toMatchObject({ allowed: true });
    const ap = set.consumers.find((c) => c.accessPointArn)?.accessPointArn;
    if (ap) expect(await throughEndpoint(set, node, 's3:GetObject', `${ap}/object/x`, set.env.accountId)).toMatchObject({ allowed: true });
  });

  it("a bucket of this account outside the platform's prefix is denied: only this platform's buckets", async () => {
    expect(await throughEndpoint(set, node, 's3:GetObject', 'arn:aws:s3:::payroll-exports/x', set.env.accountId)).toMatchObject({
      allowed: false,
      decidedBy: 'endpoint:no-allow',
    });
  });

  it("a look-alike bucket with the platform's prefix in another account is denied", async () => {
    const lookAlike = `arn:aws:s3:::${set.env.bucketNamePrefix}-exfil/x`;
    expect(await throughEndpoint(set, node, 's3:PutObject', lookAlike, OTHER_ACCOUNT)).toMatchObject({ allowed: false, decidedBy: 'endpoint:no-allow' });
  });

  it("another account's bucket is denied (no copying data out through the endpoint)", async () => {
    for (const action of ['s3:PutObject', 's3:GetObject', 's3:ListBucket']) {
      const resource = action === 's3:ListBucket' ? 'arn:aws:s3:::attacker-bucket' : 'arn:aws:s3:::attacker-bucket/loot';
      expect(await throughEndpoint(set, node, action, resource, OTHER_ACCOUNT)).toMatchObject({ allowed: false, decidedBy: 'endpoint:no-allow' });
    }
  });

  it("a principal of another account is denied on this account's bucket", async () => {
    const foreign: Caller = { id: 'foreign', arn: `arn:aws:iam::${OTHER_ACCOUNT}:role/x`, identityPolicies: [allowAll('ForeignS3', ['s3:*'])] };
    expect(await throughEndpoint(set, foreign, 's3:GetObject', `${set.bucketArn}/x`, set.env.accountId)).toMatchObject({ allowed: false });
  });
});
