// Evaluates one request against every policy AWS would consult, with @cloud-copilot/iam-simulate.
// AGPL and a devDependency: only tests and `render --explain-access` load this module, never the
// function server.
//
// The model, stated once:
// - A request is (caller, action, target, path). The path sets the context keys AWS would: TLS
//   (`aws:SecureTransport`, `s3:TlsVersion`; plain HTTP has no TLS version), the VPC endpoint
//   (`aws:SourceVpce`, `aws:SourceVpc`, and its endpoint policy) or the internet (neither), and
//   for access-point requests the access point's ARN and `s3:DataAccessPoint*` keys.
// - Signed callers always carry `aws:PrincipalArn` and `aws:PrincipalAccount`; every request
//   carries `aws:ResourceAccount`. A missing key changes outcomes, so nothing is left implicit.
// - Identity side: the caller's own policies and, for tenant workload roles, the platform's
//   permissions boundary, modelled as an allow of s3:* and kms:Decrypt/GenerateDataKey.
// - An access-point request passes two checks, as in AWS: the identity policies + the access
//   point's policy (+ endpoint policy) on the access point's ARN, and the bucket policy. AWS
//   judges the bucket policy against the bucket's ARN with the access-point keys set; the
//   simulator drops those keys on bucket ARNs, so the bucket policy's statements are re-targeted
//   one-to-one at the access point (bucket -> access point, bucket/key -> access point/object/key).
// - Object reads and writes need the bucket's KMS key too: S3 calls kms:Decrypt or
//   kms:GenerateDataKey with the caller's credentials (`kms:ViaService` = S3 in the region).
import { anonymousPrincipal, getDenialReasons, getGrantReasons, runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { type PlatformEnvironment, s3ViaService, tenantWorkloadBoundaryDocument } from '../../src/core/index.js';
import type { PolicyJson, PolicySet } from './policy-set.js';

export type TlsVersion = '1.0' | '1.1' | '1.2' | '1.3';

export interface Path {
  id: string;
  /** Through the platform's S3 gateway endpoint (else: the internet). */
  viaEndpoint: boolean;
  /** undefined: plain HTTP. */
  tls?: TlsVersion;
  /** Through this access point (always via the endpoint: access points are VPC-only). */
  accessPointArn?: string;
}

export const paths = {
  endpoint: (tls: TlsVersion): Path => ({ id: `vpce+tls${tls}`, viaEndpoint: true, tls }),
  endpointPlainHttp: (): Path => ({ id: 'vpce+http', viaEndpoint: true }),
  internet: (tls: TlsVersion): Path => ({ id: `internet+tls${tls}`, viaEndpoint: false, tls }),
  accessPoint: (arn: string, tls: TlsVersion, label = arn.split('/').pop() ?? arn): Path => ({
    id: `ap:${label}`,
    viaEndpoint: true,
    tls,
    accessPointArn: arn,
  }),
};

export interface NamedPolicy {
  name: string;
  policy: PolicyJson;
}

export interface Caller {
  id: string;
  /** undefined: an anonymous (unsigned) request. */
  arn?: string;
  identityPolicies: NamedPolicy[];
  boundary?: NamedPolicy;
}

export const anonymous: Caller = { id: 'anonymous', identityPolicies: [] };

/** The platform's tenant-workload boundary (core/boundaries.ts), as every role the function creates carries it. */
export function platformBoundary(env: PlatformEnvironment): NamedPolicy {
  return { name: 'tenant-workload-boundary', policy: tenantWorkloadBoundaryDocument(env) as unknown as PolicyJson };
}

export type Target = { kind: 'object'; key: string } | { kind: 'bucket'; listPrefix?: string };

/** How an upload asks to be encrypted: no header (bucket default) or an explicit choice. */
export type UploadEncryption = 'default' | 'kms-bucket-key' | 'kms-other-key' | 'kms-no-key-id' | 'sse-s3' | 'sse-c';

export interface S3Request {
  caller: Caller;
  action: string;
  target: Target;
  path: Path;
  encryption?: UploadEncryption;
}

export interface Decision {
  allowed: boolean;
  /** Allowed, ExplicitlyDenied or ImplicitlyDenied (of the check that decided). */
  result: string;
  /** `<policy>:<Sid>` of the statement that decided, or `<policy>:no-allow` for an implicit deny. */
  decidedBy: string;
}

const OTHER_KEY_ARN = 'arn:aws:kms:us-east-1:999988887777:key/00000000-0000-0000-0000-000000000000';

function accountOf(arn: string): string {
  return arn.split(':')[4] ?? '';
}

function principalKeys(caller: Caller): Record<string, string> {
  if (caller.arn === undefined) return {};
  return { 'aws:PrincipalArn': caller.arn, 'aws:PrincipalAccount': accountOf(caller.arn) };
}

function pathKeys(set: PolicySet, path: Path): Record<string, string> {
  const keys: Record<string, string> = { 'aws:SecureTransport': path.tls === undefined ? 'false' : 'true' };
  if (path.tls !== undefined) keys['s3:TlsVersion'] = path.tls;
  if (path.viaEndpoint) {
    keys['aws:SourceVpce'] = set.endpointId;
    keys['aws:SourceVpc'] = set.env.network.vpcId;
  }
  if (path.accessPointArn !== undefined) {
    keys['s3:DataAccessPointArn'] = path.accessPointArn;
    keys['s3:DataAccessPointAccount'] = accountOf(path.accessPointArn);
    keys['s3:AccessPointNetworkOrigin'] = 'VPC';
  }
  return keys;
}

function encryptionKeys(set: PolicySet, enc: UploadEncryption | undefined): Record<string, string> {
  switch (enc ?? 'default') {
    case 'default':
      return {};
    case 'kms-bucket-key':
      return { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': set.keyArn ?? '' };
    case 'kms-other-key':
      return { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': OTHER_KEY_ARN };
    case 'kms-no-key-id':
      return { 's3:x-amz-server-side-encryption': 'aws:kms' };
    case 'sse-s3':
      return { 's3:x-amz-server-side-encryption': 'AES256' };
    case 'sse-c':
      return { 's3:x-amz-server-side-encryption-customer-algorithm': 'AES256' };
  }
}

interface Check {
  /** Name of the resource-side policy, for `decidedBy`. */
  resourcePolicyName: string;
  resourcePolicy?: PolicyJson;
  resource: string;
  resourceAccount: string;
  identity: boolean;
  endpoint: boolean;
}

const POLICY_TYPE_NAMES: Record<string, string> = { identity: 'role', pb: 'boundary', vpce: 'endpoint', scp: 'scp', rcp: 'rcp' };

function policyName(type: string, resourcePolicyName: string): string {
  return type === 'resource' ? resourcePolicyName : (POLICY_TYPE_NAMES[type] ?? type);
}

/** One run of the simulator; throws on invalid input rather than reporting a silent deny. */
export async function simulate(
  caller: Caller,
  action: string,
  check: Check,
  context: Record<string, string | string[]>,
  vpcEndpointPolicy?: PolicyJson,
): Promise<Decision> {
  const signed = caller.arn !== undefined;
  const sim: Simulation = {
    request: {
      principal: signed ? (caller.arn as string) : anonymousPrincipal,
      action,
      resource: { resource: check.resource, accountId: check.resourceAccount },
      contextVariables: { ...context, 'aws:ResourceAccount': check.resourceAccount },
    },
    identityPolicies: signed && check.identity ? caller.identityPolicies : [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: check.resourcePolicy,
  };
  if (signed && check.identity && caller.boundary) sim.permissionBoundaryPolicies = [caller.boundary];
  if (check.endpoint && vpcEndpointPolicy) sim.vpcEndpointPolicies = [{ name: 'endpoint', policy: vpcEndpointPolicy }];
  const res = await runSimulation(sim, {});
  if (res.resultType === 'error' && res.errors.message === 'no.resource.types') {
    // e.g. PutBucketPolicy on an access point: S3 has no such operation there, so it never succeeds.
    return { allowed: false, result: 'NotApplicable', decidedBy: `${check.resourcePolicyName}:no-such-operation` };
  }
  if (res.resultType === 'error') throw new Error(`simulator refused ${action} on ${check.resource}: ${JSON.stringify(res.errors)}`);
  if (res.resultType !== 'single') throw new Error(`unexpected wildcard simulation for ${check.resource}`);
  const analysis = res.result.analysis;
  if (res.overallResult === 'Allowed') {
    const grants = getGrantReasons(analysis).filter((g) => g.policyType !== 'pb' && g.policyType !== 'vpce');
    const g = grants.find((x) => x.policyType === 'resource') ?? grants[0];
    return {
      allowed: true,
      result: 'Allowed',
      decidedBy: g ? `${policyName(g.policyType, check.resourcePolicyName)}:${g.statementId ?? `#${g.statementIndex}`}` : 'allowed',
    };
  }
  const denials = getDenialReasons(analysis);
  const explicit = denials.find((d) => d.denialType === 'Explicit');
  if (explicit && explicit.denialType === 'Explicit') {
    return {
      allowed: false,
      result: res.overallResult,
      decidedBy: `${policyName(explicit.policyType, check.resourcePolicyName)}:${explicit.statementId ?? `#${explicit.statementIndex}`}`,
    };
  }
  const blocking = denials.find((d) => d.blocking) ?? denials[0];
  return { allowed: false, result: res.overallResult, decidedBy: `${blocking ? policyName(blocking.policyType, check.resourcePolicyName) : 'all'}:no-allow` };
}

/** `arn:...:s3:::bucket[/key]` of the policy, pointed at the same place through an access point. */
function retargetResource(resource: string, bucketArn: string, accessPointArn: string): string {
  if (resource === bucketArn) return accessPointArn;
  if (resource.startsWith(`${bucketArn}/`)) return `${accessPointArn}/object/${resource.slice(bucketArn.length + 1)}`;
  return resource;
}

export function bucketPolicyAtAccessPoint(set: PolicySet, accessPointArn: string): PolicyJson {
  const retarget = (r: unknown): unknown =>
    typeof r === 'string' ? retargetResource(r, set.bucketArn, accessPointArn) : Array.isArray(r) ? r.map(retarget) : r;
  return { ...set.bucketPolicy, Statement: set.bucketPolicy.Statement.map((s) => ({ ...s, Resource: retarget(s['Resource']) })) };
}

function accessPointPolicyOf(set: PolicySet, arn: string): PolicyJson | undefined {
  return set.consumers.find((c) => c.accessPointArn === arn)?.accessPointPolicy;
}

/** The KMS call S3 makes for an object read or write, or undefined when none is needed. */
function kmsActionFor(action: string): string | undefined {
  if (action === 's3:GetObject' || action === 's3:GetObjectVersion') return 'kms:Decrypt';
  if (action === 's3:PutObject') return 'kms:GenerateDataKey';
  return undefined;
}

/** Decision for an S3 request: every check AWS makes must allow it; the first that refuses decides. */
export async function evaluateS3(set: PolicySet, req: S3Request): Promise<Decision> {
  const { caller, action, target, path } = req;
  const context: Record<string, string | string[]> = { ...principalKeys(caller), ...pathKeys(set, path) };
  if (target.kind === 'bucket' && target.listPrefix !== undefined) context['s3:prefix'] = target.listPrefix;
  if (action === 's3:PutObject') Object.assign(context, encryptionKeys(set, req.encryption));
  const account = set.env.accountId;
  const checks: Check[] = [];
  const ap = path.accessPointArn;
  if (ap === undefined) {
    const resource = target.kind === 'object' ? `${set.bucketArn}/${target.key}` : set.bucketArn;
    checks.push({
      resourcePolicyName: 'bucket',
      resourcePolicy: set.bucketPolicy,
      resource,
      resourceAccount: account,
      identity: true,
      endpoint: path.viaEndpoint,
    });
  } else {
    const resource = target.kind === 'object' ? `${ap}/object/${target.key}` : ap;
    checks.push({
      resourcePolicyName: 'access-point',
      resourcePolicy: accessPointPolicyOf(set, ap),
      resource,
      resourceAccount: account,
      identity: true,
      endpoint: true,
    });
    checks.push({
      resourcePolicyName: 'bucket',
      resourcePolicy: bucketPolicyAtAccessPoint(set, ap),
      resource,
      resourceAccount: account,
      identity: false,
      endpoint: false,
    });
  }
  // The first check's grant names what let the request in (the access point's policy on that path).
  let decision: Decision | undefined;
  for (const check of checks) {
    const d = await simulate(caller, action, check, context, set.endpointPolicy);
    if (!d.allowed) return d;
    decision ??= d;
  }
  const kmsAction = kmsActionFor(action);
  const usesBucketKey = action !== 's3:PutObject' || req.encryption === undefined || req.encryption === 'default' || req.encryption === 'kms-bucket-key';
  if (kmsAction !== undefined && usesBucketKey) {
    const kms = await evaluateKms(set, caller, kmsAction, s3ViaService(set.region));
    if (!kms.allowed) return kms;
  }
  return decision as Decision;
}

/** A direct or S3-mediated KMS call on the bucket's key (`viaService` undefined: called directly). */
export async function evaluateKms(set: PolicySet, caller: Caller, action: string, viaService?: string): Promise<Decision> {
  if (set.keyArn === undefined) throw new Error('the key ARN is not known yet: evaluate a converged render');
  const context: Record<string, string> = { ...principalKeys(caller), 'aws:SecureTransport': 'true', 'kms:EncryptionContext:aws:s3:arn': set.bucketArn };
  if (caller.arn !== undefined) context['kms:CallerAccount'] = accountOf(caller.arn);
  if (viaService !== undefined) context['kms:ViaService'] = viaService;
  return simulate(
    caller,
    action,
    { resourcePolicyName: 'key', resourcePolicy: set.keyPolicy, resource: set.keyArn, resourceAccount: accountOf(set.keyArn), identity: true, endpoint: false },
    context,
  );
}

/**
 * The simulator's catalogue knows OIDC keys only of listed providers and drops the EKS issuer's
 * `<issuer>:sub|aud` silently. Renaming them to a catalogued provider's keys, in the policy and in
 * the request alike, leaves the comparison itself untouched.
 */
const OIDC_STAND_IN = 'cognito-identity.amazonaws.com';

function renameOidcKeys<T>(value: T, issuer: string): T {
  const rename = (key: string): string => (key.startsWith(`${issuer}:`) ? `${OIDC_STAND_IN}:${key.slice(issuer.length + 1)}` : key);
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [rename(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}

export interface AssumeRequest {
  /** The OIDC provider ARN (IRSA) or service principal (Pod Identity) asking to assume the role. */
  principal: string;
  action: string;
  roleArn: string;
  context: Record<string, string | string[]>;
  /** IRSA: the issuer whose `<issuer>:sub|aud` keys appear in the trust policy and context. */
  oidcIssuer?: string;
}

export async function evaluateTrust(trustPolicy: PolicyJson, req: AssumeRequest): Promise<Decision> {
  const issuer = req.oidcIssuer;
  const policy = issuer ? renameOidcKeys(trustPolicy, issuer) : trustPolicy;
  const context = issuer ? renameOidcKeys(req.context, issuer) : req.context;
  return simulate(
    { id: req.principal, arn: req.principal, identityPolicies: [] },
    req.action,
    { resourcePolicyName: 'trust', resourcePolicy: policy, resource: req.roleArn, resourceAccount: accountOf(req.roleArn), identity: false, endpoint: false },
    context,
  );
}
