// Every kustomization under clusters/ builds, and every object the clusters' Flux would apply
// validates against the upstream schemas in ../shared/schemas (unknown fields rejected).
import { describe, expect, it } from '@jest/globals';
import { getSchemaRegistry } from '../lib/schema-validator.js';
import { appliedObjects, clusterNames, findKustomizations, kustomizeBuild, objectKey } from '../lib/kustomize.js';

const kustomizations = findKustomizations('clusters');

describe('kustomizations under clusters/', () => {
  it('finds the bases, both clusters and their tenants', () => {
    expect(clusterNames()).toEqual(['production', 'staging']);
    expect(kustomizations.map((k) => k.dir)).toEqual(
      expect.arrayContaining(['clusters/base/tenants', 'clusters/staging/tenants/team-sales', 'clusters/production/platform']),
    );
  });

  it.each(kustomizations.filter((k) => k.kind === 'Kustomization').map((k) => [k.dir]))('%s builds with kubectl kustomize', (dir) => {
    expect(() => kustomizeBuild(dir)).not.toThrow();
  });

  it('every kustomize Component is used by some kustomization (components do not build alone)', () => {
    const components = kustomizations.filter((k) => k.kind === 'Component').map((k) => k.dir);
    expect(components.length).toBeGreaterThan(0);
    const referenced = new Set(
      kustomizations.flatMap((k) =>
        ((k.content['components'] as string[] | undefined) ?? []).map((ref) =>
          `${k.dir}/${ref}`
            .split('/')
            .reduce<string[]>((acc, part) => {
              if (part === '..') acc.pop();
              else if (part !== '.') acc.push(part);
              return acc;
            }, [])
            .join('/'),
        ),
      ),
    );
    for (const component of components) expect(referenced).toContain(component);
  });
});

describe.each(clusterNames().map((c) => [c]))('cluster %s: objects validate against ../shared/schemas', (cluster) => {
  const applied = appliedObjects(cluster);
  const registry = getSchemaRegistry();

  it('applies the whole platform: Crossplane, packages, provider configs, both APIs, tenants and their buckets', () => {
    const kinds = new Set(applied.map(({ object }) => object.kind));
    for (const kind of [
      'HelmRelease',
      'Provider',
      'Function',
      'DeploymentRuntimeConfig',
      'ManagedResourceActivationPolicy',
      'ProviderConfig',
      'ClusterProviderConfig',
      'CompositeResourceDefinition',
      'Composition',
      'EnvironmentConfig',
      'RoleBinding',
    ]) {
      expect(kinds).toContain(kind);
    }
    expect(
      applied
        .filter(({ object }) => object.kind === 'CompositeResourceDefinition')
        .map(({ object }) => object.apiVersion)
        .sort(),
    ).toEqual(['apiextensions.crossplane.io/v1', 'apiextensions.crossplane.io/v2']);
    // Staging's tenants run on the v2 API, production's on claims (clusters/README.md).
    expect(kinds).toContain(cluster === 'staging' ? 'XSecureBucket' : 'XSecureBucketClaim');
  });

  it('every object validates (unknown fields rejected)', () => {
    const failures = applied.flatMap(({ stage, object }) => registry.validate(object).errors.map((error) => `[${stage.id}] ${error}`));
    expect(failures).toEqual([]);
  });

  it('every Deployment, RBAC object and PodDisruptionBudget validates against the Kubernetes 1.30 documents in shared/schemas', () => {
    const kinds = new Set(['Deployment', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding', 'PodDisruptionBudget']);
    const workloadsAndRbac = applied.filter(({ object }) => kinds.has(object.kind));
    // The tenant ClusterRole and one RoleBinding per tenant at least: the check cannot pass empty.
    expect(workloadsAndRbac.filter(({ object }) => object.kind === 'RoleBinding').length).toBeGreaterThanOrEqual(2);
    expect(workloadsAndRbac.some(({ object }) => object.kind === 'ClusterRole')).toBe(true);
    for (const { object } of workloadsAndRbac) {
      expect({ kind: object.kind, origin: registry.originOf(object.apiVersion, object.kind) }).toEqual({
        kind: object.kind,
        origin: expect.stringMatching(/^shared\/schemas\/kubernetes\//),
      });
    }
    expect(workloadsAndRbac.flatMap(({ object }) => registry.validate(object).errors)).toEqual([]);
  });

  it('the provider-aws ProviderConfig is applied and has its upstream schema', () => {
    const configs = applied.filter(({ object }) => object.apiVersion === 'aws.upbound.io/v1beta1' && object.kind === 'ProviderConfig');
    expect(configs.length).toBeGreaterThan(0);
    expect(registry.has('aws.upbound.io/v1beta1', 'ProviderConfig')).toBe(true);
  });

  it('no object is applied twice (two stages fighting over it)', () => {
    const keys = applied.map(({ object }) => objectKey(object));
    expect(keys.filter((key, i) => keys.indexOf(key) !== i)).toEqual([]);
  });
});
