// Every policy document one claim puts into AWS, read back from the rendered resources (the
// exact JSON the provider would apply), together with who the principals are. The simulator,
// the linter and `render --explain-access` all work on this one set.
import {
  type AccessLevel,
  buildContext,
  ClaimError,
  DEFAULT_ENVIRONMENT_CONFIG,
  ENVIRONMENT_CONFIG_API_VERSION,
  type ClaimIdentity,
  type ComposeInput,
  endpointPolicy,
  type Json,
  type ManagedResource,
  type ObservedResource,
  type PlatformEnvironment,
  readEnvironment,
  readIdentity,
  readSpec,
  type RenderOutput,
  REPLICA_PARTS,
} from '../../src/core/index.js';
import { runFunctionSync } from '../../src/function.js';
import { convergeSync } from '../control-plane/index.js';

/** A policy document as JSON (what AWS stores), not the core's typed builder. */
export type PolicyJson = { Version: string; Statement: Array<Record<string, unknown>> };

export interface ConsumerPolicies {
  name: string;
  serviceAccount: string;
  access: AccessLevel;
  prefixes: string[];
  roleArn: string;
  trustPolicy: PolicyJson;
  accessPolicy: PolicyJson;
  accessPointArn?: string;
  accessPointPolicy?: PolicyJson;
}

export interface PolicySet {
  env: PlatformEnvironment;
  region: string;
  identity: ClaimIdentity;
  minimumTls: '1.2' | '1.3';
  bucketName: string;
  bucketArn: string;
  bucketPolicy: PolicyJson;
  keyArn?: string;
  keyPolicy: PolicyJson;
  /** The S3 gateway endpoint requests come through (a placeholder until a dedicated one exists). */
  endpointId: string;
  /** The dedicated endpoint's policy as rendered; for a shared endpoint, the one the platform applies. */
  endpointPolicy: PolicyJson;
  consumers: ConsumerPolicies[];
  /** Every rendered resource, for checks over all emitted policies (replication, replica, ...). */
  resources: Record<string, ManagedResource>;
  /** The replica as a bucket of its own (its policy, its key; no consumers), when the claim replicates. */
  replica?: PolicySet;
}

function forProvider(resources: Record<string, ManagedResource>, name: string): Json {
  const r = resources[name];
  if (r === undefined) throw new Error(`rendered output has no resource '${name}'`);
  return (r.spec['forProvider'] ?? {}) as Json;
}

function parsePolicy(value: unknown, where: string): PolicyJson {
  if (typeof value !== 'string') throw new Error(`${where}: no policy string`);
  return JSON.parse(value) as PolicyJson;
}

/** The policies of one render pass (`out`), with the principals the claim resolves to. */
export function policySetOf(input: ComposeInput, out: RenderOutput): PolicySet {
  const env = readEnvironment(input.environmentData);
  const identity = readIdentity(input.composite);
  const spec = readSpec(input.composite, env.region);
  const ctx = buildContext(identity, spec, env, input.observed);
  const res = out.resources;
  const consumers = ctx.consumers.map((c): ConsumerPolicies => {
    const role = forProvider(res, `consumer-${c.name}-role`);
    const inline = (role['inlinePolicy'] as Array<{ policy: string }> | undefined)?.[0];
    const entry: ConsumerPolicies = {
      name: c.name,
      serviceAccount: c.serviceAccount,
      access: c.access,
      prefixes: c.prefixes,
      roleArn: c.roleArn,
      trustPolicy: parsePolicy(role['assumeRolePolicy'], `role of ${c.name}`),
      accessPolicy: parsePolicy(inline?.policy, `inline policy of ${c.name}`),
    };
    if (c.accessPointArn !== undefined) {
      entry.accessPointArn = c.accessPointArn;
      entry.accessPointPolicy = parsePolicy(forProvider(res, `consumer-${c.name}-access-point`)['policy'], `access point of ${c.name}`);
    }
    return entry;
  });
  const dedicated = res['vpc-endpoint'];
  const set: PolicySet = {
    env,
    region: spec.region,
    identity,
    minimumTls: spec.tls.minimumVersion,
    bucketName: ctx.bucketName,
    bucketArn: ctx.bucketArn,
    bucketPolicy: parsePolicy(forProvider(res, 'bucket-policy')['policy'], 'bucket policy'),
    keyPolicy: parsePolicy(forProvider(res, 'kms-key')['policy'], 'key policy'),
    endpointId: out.status.endpointId ?? 'vpce-not-yet-created',
    endpointPolicy: parsePolicy(dedicated ? (dedicated.spec['forProvider'] as Json)['policy'] : endpointPolicy(env, spec.region), 'endpoint policy'),
    consumers,
    resources: res,
  };
  if (out.status.kmsKeyArn !== undefined) set.keyArn = out.status.kmsKeyArn;
  const replica = replicaSetOf(set, input.observed);
  if (replica !== undefined) set.replica = replica;
  return set;
}

/** The replica seen like the source: the same checks and matrices run on it. */
function replicaSetOf(source: PolicySet, observed: ComposeInput['observed']): PolicySet | undefined {
  const res = source.resources;
  const bucket = res[REPLICA_PARTS.bucket.name];
  if (bucket === undefined) return undefined;
  const name = String(bucket.metadata.annotations?.['crossplane.io/external-name']);
  const keyArn = observed[REPLICA_PARTS.key.name]?.resource.status?.atProvider?.['arn'];
  const replica: PolicySet = {
    ...source,
    region: String((bucket.spec['forProvider'] as Json)['region']),
    bucketName: name,
    bucketArn: `arn:${source.env.partition}:s3:::${name}`,
    bucketPolicy: parsePolicy(forProvider(res, REPLICA_PARTS.policy.name)['policy'], 'replica bucket policy'),
    keyPolicy: parsePolicy(forProvider(res, REPLICA_PARTS.key.name)['policy'], 'replica key policy'),
    consumers: [],
  };
  delete replica.keyArn;
  delete replica.replica;
  if (typeof keyArn === 'string') replica.keyArn = keyArn;
  return replica;
}

/**
 * The claim converged by the simulated control plane, synchronously (the function in process, no
 * I/O): what AWS ends up with, and the observed state that produced it.
 */
export function convergeCore(composite: Json, environmentData: unknown, maxPasses = 8): { input: ComposeInput; out: RenderOutput } {
  const environment = {
    apiVersion: ENVIRONMENT_CONFIG_API_VERSION,
    kind: 'EnvironmentConfig',
    metadata: { name: DEFAULT_ENVIRONMENT_CONFIG },
    data: environmentData,
  };
  const rendered = convergeSync(runFunctionSync, composite, { clusterObjects: [environment], converge: true, maxPasses });
  if (rendered.fatal !== undefined) throw claimErrorOf(rendered.fatal);
  const observed = Object.fromEntries(Object.entries(rendered.observed).map(([name, resource]) => [name, { resource } as ObservedResource]));
  return {
    input: { composite, environmentData, observed },
    out: {
      resources: rendered.resources as unknown as RenderOutput['resources'],
      status: rendered.status as unknown as RenderOutput['status'],
      notes: [],
      warnings: [],
    },
  };
}

/** A Fatal's message back as the ClaimError it was ("<field>: <problem>. Fix: <fix>"). */
function claimErrorOf(fatal: string): ClaimError {
  const field = fatal.slice(0, fatal.indexOf(': '));
  const [problem, fix] = fatal.slice(field.length + 2).split('. Fix: ');
  return new ClaimError(field, problem ?? fatal, fix ?? '');
}

/** The policies AWS ends up with for the claim. */
export function convergedPolicySet(composite: Json, environmentData: unknown): PolicySet {
  const { input, out } = convergeCore(composite, environmentData);
  return policySetOf(input, out);
}
