// Table tests of RunFunction in and out, in the style of function-patch-and-transform: a request
// goes in, and we assert on the desired resources, the XR status and the results that come out.
import { describe, expect, it } from '@jest/globals';
import { RunFunctionRequest, Status } from '@crossplane-org/function-sdk-typescript';
import { runFunction, ENVIRONMENT_REQUIREMENT } from '../../functions/secure-bucket/src/function.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { canonicalJson } from '../../functions/secure-bucket/src/core/index.js';
import {
  call,
  desiredResources,
  desiredStatus,
  environmentConfig,
  exampleClaim,
  exampleClaims,
  fatalOf,
  forProvider,
  podIdentityDedicatedEndpoint,
  renderPasses,
  withSpec,
  type Json,
} from '../lib/function-fixtures.js';

describe('requirements: the function asks Crossplane for the platform EnvironmentConfig', () => {
  const composite = compositeForClaim(exampleClaim('scratch'));

  it('first call: requires the EnvironmentConfig named in the input, renders nothing yet', async () => {
    const rsp = await call({ composite, input: { environmentConfigName: 'platform-prod' } });
    expect(rsp.requirements?.resources[ENVIRONMENT_REQUIREMENT]).toEqual({
      apiVersion: 'apiextensions.crossplane.io/v1beta1',
      kind: 'EnvironmentConfig',
      matchName: 'platform-prod',
    });
    expect(Object.keys(desiredResources(rsp))).toEqual([]);
    expect(fatalOf(rsp)).toBeUndefined();
  });

  it.each([[' '], ['Platform_Env'], [42], ['a'.repeat(254)]])('Fatal naming the step input for environmentConfigName %p, asking for nothing', async (name) => {
    const rsp = await call({ composite, input: { environmentConfigName: name } });
    expect(fatalOf(rsp)).toMatch(/^input\.environmentConfigName: .* is not a Kubernetes object name\. Fix: /);
    expect(rsp.results[0]?.reason).toBe('InvalidInput');
    expect(rsp.requirements).toBeUndefined();
  });

  it('defaults to the secure-bucket-platform EnvironmentConfig without input', async () => {
    const rsp = await call({ composite });
    expect(rsp.requirements?.resources[ENVIRONMENT_REQUIREMENT]?.matchName).toBe('secure-bucket-platform');
  });

  it('Fatal when Crossplane found no such EnvironmentConfig', async () => {
    const rsp = await call({ composite, environment: null });
    expect(fatalOf(rsp)).toMatch(/EnvironmentConfig secure-bucket-platform not found/);
    expect(Object.keys(desiredResources(rsp))).toEqual([]);
  });

  it('Fatal naming the field when the platform environment is incomplete', async () => {
    const rsp = await call({ composite, environment: environmentConfig((d) => delete d['accountId']) });
    expect(fatalOf(rsp)).toMatch(/EnvironmentConfig data\.accountId: is required/);
  });

  it('keeps resources that earlier pipeline steps desired', async () => {
    const other = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } };
    const rsp = await call({ composite, environment: environmentConfig(), desired: { 'from-earlier-step': other } });
    expect(desiredResources(rsp)['from-earlier-step']).toEqual(other);
    expect(desiredResources(rsp)['bucket']).toBeDefined();
  });
});

describe('invalid claims get a Fatal result naming the field and the fix, never a crash', () => {
  const base = exampleClaim('sales-events');
  const cases: Array<[string, (spec: Json) => void, RegExp]> = [
    ['wildcard prefix', (s) => ((s['consumers'] as Json[])[0]!['prefixes'] = ['*']), /spec\.consumers\[0\]\.prefixes\[0\].*Fix:/],
    ['prefix without trailing slash', (s) => ((s['consumers'] as Json[])[0]!['prefixes'] = ['sales_event']), /spec\.consumers\[0\]\.prefixes\[0\]/],
    ['parent-directory prefix', (s) => ((s['consumers'] as Json[])[1]!['prefixes'] = ['../inventory_event/']), /spec\.consumers\[1\]\.prefixes\[0\]/],
    ['policy variable in prefix', (s) => ((s['consumers'] as Json[])[0]!['prefixes'] = ['${aws:username}/']), /spec\.consumers\[0\]\.prefixes\[0\]/],
    [
      'service account of another namespace',
      (s) => ((s['consumers'] as Json[])[0]!['serviceAccount'] = 'team-inventory:sales-api'),
      /spec\.consumers\[0\]\.serviceAccount.*own namespace/,
    ],
    [
      'full service-account subject',
      (s) => ((s['consumers'] as Json[])[0]!['serviceAccount'] = 'system:serviceaccount:team-inventory:x'),
      /spec\.consumers\[0\]\.serviceAccount/,
    ],
    ['consumer namespace field', (s) => ((s['consumers'] as Json[])[0]!['namespace'] = 'team-inventory'), /spec\.consumers\[0\]\.namespace: is platform-owned/],
    [
      'unknown access level',
      (s) => ((s['consumers'] as Json[])[0]!['access'] = 'Admin'),
      /spec\.consumers\[0\]\.access: 'Admin' is not one of Read, Write, ReadWrite/,
    ],
    // Found by the claims fuzzer: String() of this object throws, which was an InternalError.
    [
      'access an object whose toString is no function',
      (s) => ((s['consumers'] as Json[])[0]!['access'] = { toString: '' }),
      /spec\.consumers\[0\]\.access: must be one of Read, Write, ReadWrite, got object/,
    ],
    [
      'duplicate consumer names',
      (s) => ((s['consumers'] as Json[])[1]!['name'] = 'sales-api'),
      /spec\.consumers\[1\]\.name: 'sales-api' is used by another consumer/,
    ],
    ['claim sets the OIDC issuer', (s) => (s['oidcIssuer'] = 'evil.example.com'), /spec\.oidcIssuer: is platform-owned/],
    ['claim sets the account', (s) => (s['accountId'] = '999999999999'), /spec\.accountId: is platform-owned/],
    [
      'claim sets the permissions boundary',
      (s) => (s['permissionsBoundaryArn'] = 'arn:aws:iam::1:policy/x'),
      /spec\.permissionsBoundaryArn: is platform-owned/,
    ],
    ['claim sets the VPC endpoint', (s) => (s['vpcEndpointId'] = 'vpce-1234567890abcdef0'), /spec\.vpcEndpointId: is platform-owned/],
    ['claim sets forceDestroy', (s) => (s['forceDestroy'] = true), /spec\.forceDestroy: is platform-owned/],
    ['misspelt field', (s) => (s['consumer'] = []), /spec\.consumer: is not a field of XSecureBucketClaim/],
    ['region the endpoint does not serve', (s) => (s['region'] = 'eu-west-1'), /spec\.region: eu-west-1 is not served .*set it to us-east-1/],
    ['reserved bucket name prefix', (s) => (s['naming'] = { strategy: 'Fixed', name: 'xn--team-sales-x' }), /spec\.naming\.name/],
    [
      'fixed name of another namespace',
      (s) => (s['naming'] = { strategy: 'Fixed', name: 'acme-stg-team-inventory-audit-archive' }),
      /spec\.naming\.name: 'acme-stg-team-inventory-audit-archive' does not start with 'acme-stg-team-sales-'/,
    ],
    [
      'fixed name outside the platform prefix',
      (s) => (s['naming'] = { strategy: 'Fixed', name: 'team-sales-archive' }),
      /spec\.naming\.name: 'team-sales-archive' does not start with 'acme-stg-team-sales-'/,
    ],
    ['fixed name with dots', (s) => (s['naming'] = { strategy: 'Fixed', name: 'team-sales.data' }), /spec\.naming\.name.*no dots/],
    ['fixed strategy without a name', (s) => (s['naming'] = { strategy: 'Fixed' }), /spec\.naming\.name: is required/],
    ['lock with days and years', (s) => (s['objectLock'] = { mode: 'Compliance', days: 1, years: 1 }), /spec\.objectLock: needs exactly one of days or years/],
    [
      'bypass under Compliance',
      (s) => (s['objectLock'] = { mode: 'Compliance', days: 1, governanceBypassConsumers: ['sales-api'] }),
      /spec\.objectLock\.governanceBypassConsumers: nobody can bypass Compliance/,
    ],
    ['TLS 1.1 minimum', (s) => (s['tls'] = { minimumVersion: '1.1' }), /spec\.tls\.minimumVersion: '1\.1' is not one of 1\.2, 1\.3/],
    ['consumers not a list', (s) => (s['consumers'] = 'sales-api'), /spec\.consumers: must be a list/],
    [
      'replication to its own region',
      (s) => (s['replication'] = { destinationRegion: 'us-east-1' }),
      /spec\.replication\.destinationRegion: is the bucket's own region/,
    ],
    ['both alarm targets', (s) => (s['alarms'] = { email: 'a@b.co', snsTopicArn: 'arn:aws:sns:us-east-1:111122223333:t' }), /spec\.alarms: sets both/],
  ];

  it.each(cases)('%s', async (_name, mutate, expected) => {
    const rsp = await call({ composite: compositeForClaim(withSpec(base, mutate)), environment: environmentConfig() });
    expect(fatalOf(rsp)).toMatch(expected);
    expect(Object.keys(desiredResources(rsp))).toEqual([]);
  });

  it('an XR created without a claim is refused: there is no tenant namespace to scope it to', async () => {
    const composite = compositeForClaim(base);
    delete ((composite['metadata'] as Json)['labels'] as Json)['crossplane.io/claim-namespace'];
    const rsp = await call({ composite, environment: environmentConfig() });
    expect(fatalOf(rsp)).toMatch(/metadata\.labels: .*XSecureBucketClaim/);
  });

  it.each([null, 'a string', 42, [], { spec: null }, { metadata: {}, spec: [] }])('garbage composite %p gets a Fatal, not an exception', async (composite) => {
    const req = RunFunctionRequest.fromPartial({
      observed: { composite: { resource: composite as never } },
      requiredResources: { [ENVIRONMENT_REQUIREMENT]: { items: [{ resource: environmentConfig() }] } },
    });
    const rsp = await runFunction(req);
    expect(fatalOf(rsp)).toBeDefined();
  });
});

describe('what one claim renders', () => {
  it('sales-events: the bucket, its hardening, key, policy, roles and access points', async () => {
    const { converged } = await renderPasses(exampleClaim('sales-events'));
    const resources = desiredResources(converged);
    const keys = Object.keys(resources);
    expect(keys).toEqual(
      expect.arrayContaining([
        'bucket',
        'bucket-public-access-block',
        'bucket-ownership-controls',
        'kms-key',
        'kms-alias',
        'bucket-encryption',
        'bucket-policy',
      ]),
    );
    // Exactly one role per consumer, and access points only for those that asked.
    expect(keys.filter((k) => k.startsWith('consumer-')).sort()).toEqual([
      'consumer-inventory-sync-access-point',
      'consumer-inventory-sync-role',
      'consumer-reporting-role',
      'consumer-sales-api-access-point',
      'consumer-sales-api-role',
    ]);
    expect(keys).not.toContain('vpc-endpoint'); // the platform's shared endpoint is referenced, not created
    const status = desiredStatus(converged);
    const bucket = resources['bucket']!;
    expect((bucket['metadata'] as Json)['annotations']).toEqual({ 'crossplane.io/external-name': status['bucketName'] });
    expect(forProvider(bucket)['forceDestroy']).toBe(false);
    expect((bucket['spec'] as Json)['deletionPolicy']).toBe('Orphan');
    expect((resources['kms-key']!['spec'] as Json)['deletionPolicy']).toBe('Orphan');
    expect(forProvider(resources['bucket-public-access-block'])).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(forProvider(resources['bucket-ownership-controls'])['rule']).toEqual({ objectOwnership: 'BucketOwnerEnforced' });
    expect(forProvider(resources['kms-key'])['enableKeyRotation']).toBe(true);
    const rule = (forProvider(resources['bucket-encryption'])['rule'] as Json[])[0]!;
    expect(rule['bucketKeyEnabled']).toBe(true);
    expect((rule['applyServerSideEncryptionByDefault'] as Json)['sseAlgorithm']).toBe('aws:kms');
    expect(status['bucketName']).toMatch(/^acme-stg-team-sales-sales-events-[0-9a-f]{8}$/);
    expect(status['region']).toBe('us-east-1');
  });

  it("every resource of every example claim is for the claim's region and carries its owner labels", async () => {
    for (const { claim } of exampleClaims()) {
      const { converged } = await renderPasses(claim);
      for (const [name, r] of Object.entries(desiredResources(converged))) {
        const labels = (r['metadata'] as Json)['labels'] as Json;
        expect([name, labels['platform.example.org/claim-namespace']]).toEqual([name, claim.metadata.namespace]);
        // Everything lives in the claim's region, except the replica in the destination region.
        const regions = ['us-east-1', ...(claim.spec['replication'] ? [(claim.spec['replication'] as Json)['destinationRegion']] : [])];
        if ('region' in forProvider(r)) expect([name, regions]).toEqual([name, expect.arrayContaining([forProvider(r)['region']])]);
      }
    }
  });

  it('versioning only where something requires it', async () => {
    const has = async (claim: ReturnType<typeof exampleClaim>) => 'bucket-versioning' in desiredResources((await renderPasses(claim)).converged);
    expect(await has(exampleClaim('scratch'))).toBe(false);
    expect(await has(exampleClaim('audit-archive'))).toBe(true); // object lock + replication
    expect(await has(withSpec(exampleClaim('scratch'), (s) => (s['versioning'] = 'Enabled')))).toBe(true);
    expect(await has(withSpec(exampleClaim('scratch'), (s) => (s['objectLock'] = { mode: 'Governance', days: 7 })))).toBe(true);
  });

  it('Pod Identity and a dedicated endpoint: associations, the endpoint and its route tables', async () => {
    const env = environmentConfig(podIdentityDedicatedEndpoint);
    const { first, converged } = await renderPasses(exampleClaim('sales-events'), env);
    const resources = desiredResources(converged);
    expect(forProvider(resources['vpc-endpoint'])).toMatchObject({
      vpcEndpointType: 'Gateway',
      serviceName: 'com.amazonaws.us-east-1.s3',
      vpcId: 'vpc-0a1b2c3d4e5f60718',
    });
    expect(Object.keys(resources).filter((k) => k.startsWith('vpc-endpoint-route-'))).toHaveLength(2);
    expect(forProvider(resources['consumer-sales-api-pod-identity'])).toMatchObject({
      namespace: 'team-sales',
      serviceAccount: 'sales-api',
      clusterName: 'staging',
    });
    // Until the endpoint exists the bucket policy holds requests to the VPC; then to the endpoint.
    const networkCondition = (rsp: typeof first) => {
      const doc = JSON.parse(forProvider(desiredResources(rsp)['bucket-policy'])['policy'] as string) as { Statement: Json[] };
      return doc.Statement.find((s) => s['Sid'] === 'DenyOutsideVpcEndpoint')!['Condition'] as Json;
    };
    expect(networkCondition(first)['StringNotEquals']).toEqual({ 'aws:SourceVpc': 'vpc-0a1b2c3d4e5f60718' });
    expect(networkCondition(converged)['StringNotEquals']).toEqual({ 'aws:SourceVpce': desiredStatus(converged)['endpointId'] });
  });
});

describe('multi-pass rendering: values known only after creation', () => {
  it('pass 1 waits for the key ARN; pass 2 pins uploads and roles to it; pass 3 changes nothing', async () => {
    const claim = exampleClaim('sales-events');
    const { first, converged } = await renderPasses(claim);
    const policyOf = (rsp: typeof first) => forProvider(desiredResources(rsp)['bucket-policy'])['policy'] as string;
    expect(desiredStatus(first)['pendingValues']).toEqual(['kmsKeyArn']);
    expect(first.conditions[0]).toMatchObject({ type: 'SecureBucketComplete', status: Status.STATUS_CONDITION_FALSE, reason: 'WaitingForProvider' });
    expect(policyOf(first)).not.toContain('DenyForeignKmsKeys');

    const keyArn = desiredStatus(converged)['kmsKeyArn'] as string;
    expect(keyArn).toMatch(/^arn:aws:kms:us-east-1:111122223333:key\//);
    expect(policyOf(converged)).toContain(keyArn);
    expect(desiredStatus(converged)['pendingValues']).toEqual([]);
    expect(converged.conditions[0]).toMatchObject({ status: Status.STATUS_CONDITION_TRUE });
    const rolePolicy = (forProvider(desiredResources(converged)['consumer-sales-api-role'])['inlinePolicy'] as Json[])[0]!['policy'] as string;
    expect(JSON.parse(rolePolicy).Statement.find((s: Json) => s['Sid'] === 'BucketKeyViaS3').Resource).toBe(keyArn);

    const third = await renderPasses(claim);
    expect(canonicalJson(desiredResources(third.converged))).toBe(canonicalJson(desiredResources(converged)));
  });

  it('every policy document is emitted canonically: sorted keys, statements by Sid, stable bytes', async () => {
    for (const { claim } of exampleClaims()) {
      const { converged } = await renderPasses(claim);
      const policies: string[] = [];
      for (const r of Object.values(desiredResources(converged))) {
        const fp = forProvider(r);
        for (const key of ['policy', 'assumeRolePolicy']) if (typeof fp[key] === 'string') policies.push(fp[key] as string);
        for (const inline of (fp['inlinePolicy'] as Json[] | undefined) ?? []) policies.push(inline['policy'] as string);
      }
      expect(policies.length).toBeGreaterThan(2);
      for (const p of policies) {
        expect(canonicalJson(JSON.parse(p))).toBe(p);
        const sids = (JSON.parse(p).Statement as Json[]).map((s) => s['Sid'] as string);
        expect(sids).toEqual([...sids].sort((a, b) => a.localeCompare(b)));
      }
    }
  });
});
