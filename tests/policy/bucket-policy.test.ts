// Issue 2's policy proofs, by evaluating each example claim's converged policies with the IAM
// simulator: TLS, TLS version, network path, public access, upload encryption, and that the
// Crossplane provider can always manage the bucket policy.
import { describe, expect, it } from '@jest/globals';
import {
  allowAll,
  anonymous,
  evaluateS3,
  examplePolicySets,
  paths,
  environmentData,
  platformBoundary,
  type Caller,
  type ConsumerPolicies,
  type Path,
  type PolicySet,
  type S3Request,
  type TlsVersion,
} from '../lib/simulate.js';
import { readEnvironment } from '../../functions/secure-bucket/src/core/index.js';

/** Every example set shares the example environment, and with it the boundary. */
const BOUNDARY = platformBoundary(readEnvironment(environmentData()));

function consumerCaller(c: ConsumerPolicies): Caller {
  return { id: c.name, arn: c.roleArn, identityPolicies: [{ name: 'bucket-access', policy: c.accessPolicy }], boundary: BOUNDARY };
}

/** The route a consumer is meant to use: its access point if it has one, else the endpoint. */
function ownRoute(set: PolicySet, c: ConsumerPolicies, tls: TlsVersion | undefined): Path {
  if (c.accessPointArn) return tls === undefined ? { ...paths.accessPoint(c.accessPointArn, '1.2'), tls: undefined } : paths.accessPoint(c.accessPointArn, tls);
  return tls === undefined ? paths.endpointPlainHttp() : paths.endpoint(tls);
}

/** A request the consumer is entitled to: read for readers, write for writers, in its own prefix. */
function entitled(set: PolicySet, c: ConsumerPolicies, path: Path): S3Request {
  const key = `${c.prefixes[0]}2024/01/01/event.json`;
  return { caller: consumerCaller(c), action: c.access === 'Read' ? 's3:GetObject' : 's3:PutObject', target: { kind: 'object', key }, path };
}

const sets = examplePolicySets();
const tlsBelow = (min: '1.2' | '1.3'): TlsVersion[] => (min === '1.3' ? ['1.0', '1.1', '1.2'] : ['1.0', '1.1']);

describe.each(sets)('bucket policy of $file', ({ set }) => {
  const min = set.minimumTls;

  it.each(set.consumers.map((c) => [c.name, c] as const))(
    `%s: its entitled request is allowed at TLS ${min} via its own route (the baseline for the denials)`,
    async (_n, c) => {
      expect(await evaluateS3(set, entitled(set, c, ownRoute(set, c, min)))).toMatchObject({ allowed: true });
    },
  );

  it.each(set.consumers.map((c) => [c.name, c] as const))('%s: the same request without TLS is denied by DenyInsecureTransport', async (_n, c) => {
    expect(await evaluateS3(set, entitled(set, c, ownRoute(set, c, undefined)))).toMatchObject({ allowed: false, decidedBy: 'bucket:DenyInsecureTransport' });
  });

  it.each(set.consumers.flatMap((c) => tlsBelow(min).map((v) => [c.name, v, c] as const)))(
    '%s: TLS %s is below the minimum and denied by DenyOutdatedTls',
    async (_n, version, c) => {
      expect(await evaluateS3(set, entitled(set, c, ownRoute(set, c, version)))).toMatchObject({ allowed: false, decidedBy: 'bucket:DenyOutdatedTls' });
    },
  );

  it.each(set.consumers.map((c) => [c.name, c] as const))(
    '%s: from the internet (not via the endpoint) the request is denied by DenyOutsideVpcEndpoint',
    async (_n, c) => {
      const req = entitled(set, c, paths.internet(min));
      expect(await evaluateS3(set, req)).toMatchObject({ allowed: false, decidedBy: 'bucket:DenyOutsideVpcEndpoint' });
    },
  );

  it('the break-glass principal reaches the bucket from the internet, with TLS only', async () => {
    const arn = set.env.access.breakGlassPrincipalArns[0] as string;
    const bg: Caller = { id: 'break-glass', arn, identityPolicies: [allowAll('BreakGlass', ['s3:*', 'kms:*'])] };
    const key = `${set.consumers[0]?.prefixes[0] ?? ''}x.json`;
    expect(await evaluateS3(set, { caller: bg, action: 's3:GetObject', target: { kind: 'object', key }, path: paths.internet(min) })).toMatchObject({
      allowed: true,
    });
    expect(
      await evaluateS3(set, { caller: bg, action: 's3:GetObject', target: { kind: 'object', key }, path: { id: 'internet+http', viaEndpoint: false } }),
    ).toMatchObject({
      allowed: false,
      decidedBy: 'bucket:DenyInsecureTransport',
    });
  });

  it('the public (anonymous requests) is denied every action on every path', async () => {
    const requests: S3Request[] = [];
    for (const path of [paths.endpoint(min), paths.internet(min)]) {
      for (const [action, target] of [
        ['s3:GetObject', { kind: 'object', key: 'x.json' }],
        ['s3:PutObject', { kind: 'object', key: 'x.json' }],
        ['s3:ListBucket', { kind: 'bucket', listPrefix: '' }],
        ['s3:GetBucketPolicy', { kind: 'bucket' }],
      ] as const) {
        requests.push({ caller: anonymous, action, target, path });
      }
    }
    for (const req of requests) expect(await evaluateS3(set, req)).toMatchObject({ allowed: false });
  });

  const writers = set.consumers.filter((c) => c.access !== 'Read');
  it.each(writers.map((c) => [c.name, c] as const))(
    '%s: uploads with SSE-C, SSE-S3 or another KMS key are denied; the bucket key (explicit or default) is allowed',
    async (_n, c) => {
      const put = (encryption: S3Request['encryption']): S3Request => ({ ...entitled(set, c, ownRoute(set, c, min)), action: 's3:PutObject', encryption });
      expect(await evaluateS3(set, put('sse-c'))).toMatchObject({ allowed: false, decidedBy: 'bucket:DenyCustomerProvidedKeys' });
      expect(await evaluateS3(set, put('kms-other-key'))).toMatchObject({ allowed: false, decidedBy: 'bucket:DenyForeignKmsKeys' });
      expect(await evaluateS3(set, put('sse-s3'))).toMatchObject({ allowed: false, decidedBy: 'bucket:DenyEncryptionOtherThanKms' });
      expect(await evaluateS3(set, put('kms-bucket-key'))).toMatchObject({ allowed: true });
      // No header at all: the bucket's default (our key) applies; UploadPart never sends one either.
      expect(await evaluateS3(set, put('default'))).toMatchObject({ allowed: true });
    },
  );

  describe("the Crossplane provider's role is never locked out of the bucket policy", () => {
    const provider: Caller = { id: 'provider', arn: set.env.access.providerRoleArn, identityPolicies: [allowAll('ProviderManagesS3', ['s3:*'])] };
    const actions = ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'];
    it.each(actions)('%s from outside the endpoint (TLS) and through it', async (action) => {
      for (const path of [paths.internet(min), paths.endpoint(min)]) {
        expect(await evaluateS3(set, { caller: provider, action, target: { kind: 'bucket' }, path })).toMatchObject({ allowed: true });
      }
    });
    it('but even the provider is held to TLS', async () => {
      expect(
        await evaluateS3(set, {
          caller: provider,
          action: 's3:PutBucketPolicy',
          target: { kind: 'bucket' },
          path: { id: 'internet+http', viaEndpoint: false },
        }),
      ).toMatchObject({
        allowed: false,
        decidedBy: 'bucket:DenyInsecureTransport',
      });
    });
  });
});
