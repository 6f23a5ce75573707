// The clusters differ only where a cluster's own patches (or its name) say so, and each
// cluster's values agree with each other: one account, one region, the provider's role.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadAll } from 'js-yaml';
import { repoRoot } from '../lib/repo.js';
import { findClaimDocuments } from '../../cdk8s/claims.js';
import {
  type FluxStage,
  type K8sObject,
  appliedObjects,
  clusterNames,
  findKustomizations,
  objectKey,
  reconcileCluster,
  tenantNames,
} from '../lib/kustomize.js';

/** What a tenant commits for a bucket: a claim (v1 API) or a namespaced XSecureBucket (v2 API). */
const isTenantBucket = (o: K8sObject): boolean =>
  (o.kind === 'XSecureBucketClaim' && o.apiVersion === 'platform.example.org/v1alpha1') ||
  (o.kind === 'XSecureBucket' && o.apiVersion === 'storage.platform.example.org/v1alpha1');

interface PatchedField {
  kind: string;
  name: RegExp;
  field: string[];
}

/** Paths to every scalar or list in a strategic-merge patch (lists are replaced whole). */
function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  // An empty map is a value a patch sets too (a tenant registered as `team-web: {}`).
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
}

const IDENTITY_FIELDS = new Set(['apiVersion', 'kind', 'metadata.name', 'metadata.namespace']);

/** The fields every patch in a cluster's own kustomizations sets (not the shared bases'). */
function patchedFields(cluster: string): PatchedField[] {
  return findKustomizations(`clusters/${cluster}`).flatMap(({ dir, content }) => {
    const patches = (content['patches'] as Array<{ path?: string; patch?: string; target?: { kind?: string; name?: string } }> | undefined) ?? [];
    return patches.flatMap((entry) => {
      const text = entry.path === undefined ? (entry.patch ?? '') : readFileSync(path.join(repoRoot, dir, entry.path), 'utf8');
      const doc = loadAll(text)[0];
      if (Array.isArray(doc)) {
        // JSON 6902: the operations' paths, on the target.
        return (doc as Array<{ path: string }>).map((op) => ({
          kind: entry.target?.kind ?? '',
          name: new RegExp(`^(${entry.target?.name ?? '.*'})$`),
          field: op.path
            .split('/')
            .slice(1)
            .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
            .filter((p) => p !== '-'),
        }));
      }
      const smp = doc as K8sObject;
      return leafPaths(smp)
        .filter((field) => !IDENTITY_FIELDS.has(field.join('.')))
        .map((field) => ({ kind: entry.target?.kind ?? smp.kind, name: new RegExp(`^(${entry.target?.name ?? smp.metadata.name})$`), field }));
    });
  });
}

function withoutField(obj: unknown, field: string[]): void {
  const [head, ...rest] = field;
  if (head === undefined || obj === null || typeof obj !== 'object') return;
  const record = obj as Record<string, unknown>;
  if (rest.length === 0) delete record[head];
  else withoutField(record[head], rest);
}

/** The object as it would be on any cluster: patched fields removed, the cluster's name abstracted. */
function normalised(obj: K8sObject, cluster: string, fields: PatchedField[]): unknown {
  const copy = structuredClone(obj);
  for (const f of fields) if (f.kind === obj.kind && f.name.test(obj.metadata.name)) withoutField(copy, f.field);
  const text = JSON.stringify(copy)
    .replace(new RegExp(`clusters/${cluster}(?=[/"])`, 'g'), 'clusters/<cluster>')
    .replace(new RegExp(`"${cluster}"`, 'g'), '"<cluster>"');
  return JSON.parse(text);
}

/** Stages the platform owns; tenants' folders hold the tenants' own per-cluster claims. */
const platformStages = (cluster: string): FluxStage[] => reconcileCluster(cluster).filter((s) => s.kustomization.metadata.namespace === 'flux-system');

/**
 * Generated from the tenants' per-cluster claims and mesh settings (the platform-owned mesh
 * objects the `tenants` stage applies): they differ between clusters by design.
 */
/** Generated per cluster from its claims (cdk8s) or its EnvironmentConfig (the IAM boundaries): compared by their generators' tests. */
const fromClaims = (o: K8sObject): boolean => ['cdk8s-secure-bucket', 'platform-iam'].includes(o.metadata.labels?.['app.kubernetes.io/managed-by'] ?? '');

interface Environment {
  accountId: string;
  region: string;
  clusterName: string;
  bucketNamePrefix: string;
  identity: { oidcIssuer: string; permissionsBoundaryArn: string };
  network: { vpcId: string; endpoint: { id?: string } };
  access: { providerRoleArn: string };
  alarms: { snsTopicArnsByRegion?: Record<string, string> };
}

function environmentOf(cluster: string): Environment {
  const config = appliedObjects(cluster).find(({ object }) => object.kind === 'EnvironmentConfig' && object.metadata.name === 'secure-bucket-platform');
  if (config === undefined) throw new Error(`cluster ${cluster} applies no EnvironmentConfig secure-bucket-platform`);
  return config.object['data'] as Environment;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(strings);
}

const clusters = clusterNames();

describe('the clusters differ only through their patches', () => {
  const [first, ...others] = clusters as [string, ...string[]];

  it('each cluster patches its environment and its provider role, nothing else of the platform', () => {
    for (const cluster of clusters) {
      const kinds = [...new Set(patchedFields(cluster).map((f) => f.kind))].sort();
      expect({ cluster, kinds }).toEqual({ cluster, kinds: ['DeploymentRuntimeConfig', 'EnvironmentConfig'] });
    }
  });

  it.each(others.map((c) => [c]))(`%s applies the same platform objects as ${first}, modulo patched fields`, (other) => {
    const fields = [...patchedFields(first), ...patchedFields(other)];
    // A tenant may run on one cluster only (make tenant): its onboarding objects are compared where both run it.
    const oneSided = [...tenantNames(first), ...tenantNames(other)].filter((t) => !(tenantNames(first).includes(t) && tenantNames(other).includes(t)));
    const ofOneSided = (o: K8sObject) => oneSided.includes(o.metadata.namespace ?? (o.kind === 'Namespace' ? o.metadata.name : ''));
    const view = (cluster: string) =>
      Object.fromEntries(
        platformStages(cluster).flatMap((stage) =>
          stage.objects.filter((o) => !fromClaims(o) && !ofOneSided(o)).map((o) => [`${stage.id} ${objectKey(o)}`, normalised(o, cluster, fields)]),
        ),
      );
    const a = view(first);
    const b = view(other);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const key of Object.keys(a)) expect({ key, object: b[key] }).toEqual({ key, object: a[key] });
  });

  it('the comparison would see a difference: the patched values really differ between clusters', () => {
    const envs = clusters.map(environmentOf);
    expect(new Set(envs.map((e) => e.accountId)).size).toBe(clusters.length);
    expect(new Set(envs.map((e) => e.region)).size).toBe(clusters.length);
  });
});

describe.each(clusters.map((c) => [c]))('cluster %s: its values agree with each other', (cluster) => {
  const env = environmentOf(cluster);
  const applied = appliedObjects(cluster);

  it("the environment names this cluster, and every ARN in it is in this cluster's account", () => {
    expect(env.clusterName).toBe(cluster);
    const arns = strings(env).filter((s) => s.startsWith('arn:'));
    expect(arns.length).toBeGreaterThan(3);
    // Replica regions have their own platform topic (alarms.snsTopicArnsByRegion): the account is still this one.
    const regions = [env.region, ...Object.keys(env.alarms.snsTopicArnsByRegion ?? {})].join('|');
    for (const arn of arns) expect(arn).toMatch(new RegExp(`^arn:aws:[a-z0-9-]+:(${regions})?:${env.accountId}:`));
    for (const [region, arn] of Object.entries(env.alarms.snsTopicArnsByRegion ?? {})) expect(arn.split(':')[3]).toBe(region);
    expect(env.identity.oidcIssuer).toMatch(new RegExp(`^oidc\\.eks\\.${env.region}\\.amazonaws\\.com/id/[0-9A-Z]{32}$`));
  });

  it('the provider pods assume exactly the role the bucket policies never lock out', () => {
    const runtime = applied.find(({ object }) => object.kind === 'DeploymentRuntimeConfig' && object.metadata.name === 'provider-aws-irsa')
      ?.object as K8sObject;
    const annotations = (runtime['spec'] as { serviceAccountTemplate: { metadata: { annotations?: Record<string, string> } } }).serviceAccountTemplate.metadata
      .annotations;
    expect(annotations?.['eks.amazonaws.com/role-arn']).toBe(env.access.providerRoleArn);
  });

  it("every tenant bucket (claim or v2 XSecureBucket) is in this cluster's region (the function rejects any other)", () => {
    const claims = applied.filter(({ object }) => isTenantBucket(object)).map(({ object }) => object);
    // Every bucket request committed under this cluster is applied (listed in its folder's kustomization), none twice.
    const committed = findClaimDocuments(repoRoot).filter(({ file }) => file.startsWith(path.join(repoRoot, 'clusters', cluster) + path.sep));
    const key = (o: { metadata?: unknown }) => {
      const m = o.metadata as { namespace?: string; name: string };
      return `${m.namespace}/${m.name}`;
    };
    expect(committed.length).toBeGreaterThan(0);
    expect(claims.map(key).sort()).toEqual(committed.map(({ doc }) => key(doc)).sort());
    for (const claim of claims) {
      const region = (claim['spec'] as { region?: string }).region;
      expect({ claim: claim.metadata.name, region: region ?? env.region }).toEqual({ claim: claim.metadata.name, region: env.region });
    }
  });

  it("no other cluster's account, VPC, endpoint, issuer or bucket prefix appears in what it applies", () => {
    const everything = strings(applied.map(({ object }) => object));
    for (const other of clusters.filter((c) => c !== cluster)) {
      const theirs = environmentOf(other);
      const markers = [theirs.accountId, theirs.network.vpcId, theirs.network.endpoint.id, theirs.identity.oidcIssuer, `${theirs.bucketNamePrefix}-`].filter(
        (m): m is string => m !== undefined,
      );
      for (const marker of markers) expect({ marker, found: everything.filter((s) => s.includes(marker)) }).toEqual({ marker, found: [] });
    }
  });
});

it('fixed bucket names are unique across clusters (S3 names are global)', () => {
  const fixed = clusters.flatMap((cluster) =>
    appliedObjects(cluster)
      .filter(({ object }) => isTenantBucket(object))
      .flatMap(({ object }) => {
        const naming = (object['spec'] as { naming?: { strategy: string; name?: string } }).naming;
        return naming?.strategy === 'Fixed' && naming.name !== undefined ? [naming.name] : [];
      }),
  );
  expect(fixed.length).toBeGreaterThan(1);
  expect(new Set(fixed).size).toBe(fixed.length);
});
