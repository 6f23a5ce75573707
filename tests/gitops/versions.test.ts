// Everything a cluster pulls is pinned to an exact version, and the versions are the ones
// whose schemas ../shared/schemas holds; the activation policy activates exactly kinds that
// the installed providers serve.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadAll } from 'js-yaml';
import { schemasDir } from '../lib/repo.js';
import { type K8sObject, appliedObjects, clusterNames } from '../lib/kustomize.js';

const EXACT_SEMVER = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** The release tag SOURCES.md names for a component row (e.g. "Crossplane core" -> v2.3.4). */
function sourcesTag(component: string): string {
  const sources = readFileSync(path.join(schemasDir, 'SOURCES.md'), 'utf8');
  const row = sources.split('\n').find((line) => line.startsWith(`| ${component}`));
  const tag = row === undefined ? undefined : /tag `(v[^`]+)`/.exec(row)?.[1];
  if (tag === undefined) throw new Error(`SOURCES.md names no tag for ${component}`);
  return tag;
}

/** `registry/path:tag` -> tag; a digest pin (`@sha256:`) counts as pinned. */
function imageTag(ref: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return 'digest';
  return /:([^/:]+)$/.exec(ref)?.[1];
}

interface Pin {
  what: string;
  version: string | undefined;
}

/** Every version a cluster's objects pin: chart versions, package and container images. */
function pinsOf(objects: K8sObject[]): Pin[] {
  const pins: Pin[] = [];
  const visit = (value: unknown, where: string): void => {
    if (Array.isArray(value)) value.forEach((item, i) => visit(item, `${where}[${i}]`));
    else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if ((key === 'package' || key === 'image') && typeof child === 'string') pins.push({ what: `${where}.${key} ${child}`, version: imageTag(child) });
        visit(child, `${where}.${key}`);
      }
    }
  };
  for (const obj of objects) {
    visit(obj['spec'], `${obj.kind}/${obj.metadata.name}.spec`);
    if (obj.kind === 'HelmRelease') {
      const chart = (obj['spec'] as { chart: { spec: { chart: string; version?: string } } }).chart.spec;
      pins.push({ what: `HelmRelease/${obj.metadata.name} chart ${chart.chart}`, version: chart.version });
    }
  }
  return pins;
}

describe.each(clusterNames().map((c) => [c]))('cluster %s: versions', (cluster) => {
  const objects = appliedObjects(cluster).map(({ object }) => object);
  const providers = objects.filter((o) => o.kind === 'Provider');
  const packageOf = (o: K8sObject) => (o['spec'] as { package: string }).package;

  it('every chart, package and image is an exact version: no latest, no range, no missing tag', () => {
    const pins = pinsOf(objects);
    expect(pins.length).toBeGreaterThanOrEqual(providers.length + 3);
    const loose = pins.filter((pin) => pin.version !== 'digest' && !(pin.version !== undefined && EXACT_SEMVER.test(pin.version)));
    expect(loose.map((pin) => `${pin.what} -> ${pin.version ?? '(none)'}`)).toEqual([]);
  });

  it('Crossplane is the chart of the release whose CRDs are in shared/schemas', () => {
    const release = objects.find((o) => o.kind === 'HelmRelease' && o.metadata.name === 'crossplane') as K8sObject;
    const chart = (release['spec'] as { chart: { spec: { chart: string; version: string } } }).chart.spec;
    expect(chart.chart).toBe('crossplane');
    expect(`v${chart.version}`).toBe(sourcesTag('Crossplane core'));
    const repo = objects.find((o) => o.kind === 'HelmRepository') as K8sObject;
    expect((repo['spec'] as { url: string }).url).toBe('https://charts.crossplane.io/stable');
  });

  it("every provider is a provider-aws family member at the schemas' release, from one registry", () => {
    const tag = sourcesTag('provider-aws');
    for (const provider of providers)
      expect(packageOf(provider)).toMatch(
        new RegExp(`^xpkg\\.crossplane\\.io/crossplane-contrib/provider-(family-aws|aws-[a-z0-9]+):${tag.replace(/\./g, '\\.')}$`),
      );
    expect(providers.map(packageOf)).toContain(`xpkg.crossplane.io/crossplane-contrib/provider-family-aws:${tag}`);
  });

  it('the functions are ours and function-auto-ready, both pinned, by the names the Composition uses', () => {
    const functions = objects.filter((o) => o.kind === 'Function');
    expect(functions.map((f) => f.metadata.name).sort()).toEqual(['function-auto-ready', 'function-secure-bucket']);
    const composition = objects.find((o) => o.kind === 'Composition') as K8sObject;
    const refs = (composition['spec'] as { pipeline: Array<{ functionRef: { name: string } }> }).pipeline.map((step) => step.functionRef.name);
    for (const ref of refs) expect(functions.map((f) => f.metadata.name)).toContain(ref);
  });

  it('providers run with the IRSA runtime config; the ProviderConfig uses IRSA, never stored keys', () => {
    for (const provider of providers) expect((provider['spec'] as { runtimeConfigRef?: { name: string } }).runtimeConfigRef?.name).toBe('provider-aws-irsa');
    const config = objects.find((o) => o.kind === 'ProviderConfig' && o.metadata.name === 'default') as K8sObject;
    expect(config['spec']).toEqual({ credentials: { source: 'IRSA' } });
    const runtime = objects.find((o) => o.kind === 'DeploymentRuntimeConfig' && o.metadata.name === 'provider-aws-irsa') as K8sObject;
    expect((runtime['spec'] as { serviceAccountTemplate: { metadata: { name: string } } }).serviceAccountTemplate.metadata.name).toBe('provider-aws');
  });

  it('function-secure-bucket runs two replicas spread across nodes, with a PodDisruptionBudget (issue 24)', () => {
    const fn = objects.find((o) => o.kind === 'Function' && o.metadata.name === 'function-secure-bucket') as K8sObject;
    expect((fn['spec'] as { runtimeConfigRef?: { name: string } }).runtimeConfigRef?.name).toBe('function-secure-bucket');
    const runtime = objects.find((o) => o.kind === 'DeploymentRuntimeConfig' && o.metadata.name === 'function-secure-bucket') as K8sObject;
    type Spread = { topologyKey: string; whenUnsatisfiable: string; labelSelector: { matchLabels: Record<string, string> } };
    const spec = (
      runtime['spec'] as {
        deploymentTemplate: {
          spec: { replicas: number; template: { spec: { topologySpreadConstraints: Spread[]; containers: Array<{ name: string; args: string[] }> } } };
        };
      }
    ).deploymentTemplate.spec;
    expect(spec.replicas).toBeGreaterThanOrEqual(2);
    const byNode = spec.template.spec.topologySpreadConstraints.find((c) => c.topologyKey === 'kubernetes.io/hostname');
    // Crossplane labels the function's pods pkg.crossplane.io/function=<Function name> (runtime.go podSelectors).
    expect(byNode).toMatchObject({
      whenUnsatisfiable: 'DoNotSchedule',
      labelSelector: { matchLabels: { 'pkg.crossplane.io/function': 'function-secure-bucket' } },
    });
    expect(spec.template.spec.containers.find((c) => c.name === 'package-runtime')?.args).toEqual(['--metrics-address', '0.0.0.0:8080']);
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'function-secure-bucket') as K8sObject;
    expect(pdb.metadata.namespace).toBe('crossplane-system');
    expect(pdb['spec']).toEqual({ minAvailable: 1, selector: { matchLabels: { 'pkg.crossplane.io/function': 'function-secure-bucket' } } });
  });

  describe('ManagedResourceActivationPolicy', () => {
    const policies = objects.filter((o) => o.kind === 'ManagedResourceActivationPolicy');
    const activated = policies.flatMap((p) => (p['spec'] as { activate: string[] }).activate);
    const crdPlurals = new Map(
      ['provider-aws', 'provider-aws-namespaced'].flatMap((folder) =>
        readdirSync(path.join(schemasDir, folder)).map((file) => {
          const crd = loadAll(readFileSync(path.join(schemasDir, folder, file), 'utf8'))[0] as { spec: { group: string; names: { plural: string } } };
          return [`${crd.spec.names.plural}.${crd.spec.group}` as string, file] as const;
        }),
      ),
    );

    it('is the one list: a single policy, exact names (no wildcards), no duplicates', () => {
      expect(policies).toHaveLength(1);
      expect(activated.length).toBeGreaterThan(0);
      expect(activated.filter((name) => name.includes('*'))).toEqual([]);
      expect(new Set(activated).size).toBe(activated.length);
    });

    it('names real provider-aws kinds, cluster-scoped or namespaced (plural.group as the CRDs spell them)', () => {
      for (const name of activated) {
        expect(name).toMatch(/^[a-z0-9]+\.[a-z0-9]+\.aws\.(m\.)?upbound\.io$/);
        expect({ name, known: crdPlurals.has(name) }).toEqual({ name, known: true });
      }
    });

    it('every activated kind is served by an installed provider, and every service provider serves one', () => {
      const services = providers.map(packageOf).flatMap((p) => /\/provider-aws-([a-z0-9]+):/.exec(p)?.[1] ?? []);
      const activatedServices = new Set(activated.map((name) => name.split('.')[1] as string));
      expect([...activatedServices].sort()).toEqual([...services].sort());
    });
  });
});
