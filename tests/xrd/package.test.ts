// The XRDs, Compositions and Configuration package as Crossplane reads them: the names that tie
// the files together agree. Both APIs: v1 (claims) and v2 (namespaced). That each object passes
// Crossplane's own CRD (schema and CEL rules) is checked by the real validator
// (tests/upstream/validate.test.ts); what the built package holds, by tests/upstream/packages.test.ts.
import { describe, it, expect } from '@jest/globals';
import { readYaml } from '../lib/cel.js';
import { DECLARED_ENVIRONMENT_REQUIREMENT } from '../../functions/secure-bucket/src/function.js';

interface Xrd {
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; plural: string };
    claimNames: { kind: string; plural: string };
    scope: string;
    defaultCompositionRef?: { name: string };
    enforcedCompositionRef?: { name: string };
    versions: Array<{ name: string; served: boolean; referenceable: boolean }>;
  };
}
interface Composition {
  metadata: { name: string };
  spec: {
    compositeTypeRef: { apiVersion: string; kind: string };
    mode: string;
    pipeline: Array<{
      step: string;
      functionRef: { name: string };
      input?: Record<string, unknown>;
      requirements?: { requiredResources?: Array<Record<string, unknown>> };
    }>;
  };
}
interface Dependency {
  apiVersion?: string;
  kind?: string;
  package?: string;
  version: string;
  provider?: string;
  function?: string;
}
interface ConfigurationMeta {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations: Record<string, string> };
  spec: { crossplane: { version: string }; dependsOn: Dependency[]; capabilities?: string[] };
}

const xrd = readYaml<Xrd>('compositions/definition.yaml');
const xrdV2 = readYaml<Omit<Xrd, 'spec'> & { apiVersion: string; spec: Omit<Xrd['spec'], 'claimNames'> & { claimNames?: unknown } }>(
  'compositions/definition-v2.yaml',
);
const composition = readYaml<Composition>('compositions/composition.yaml');
const compositionV2 = readYaml<Composition>('compositions/composition-v2.yaml');
const configuration = readYaml<ConfigurationMeta>('compositions/crossplane.yaml');
const environment = readYaml<{ kind: string; metadata: { name: string } }>('compositions/examples/environment.yaml');

describe('the XRD', () => {
  it('defines XSecureBucket and its claim in platform.example.org, LegacyCluster scope', () => {
    expect(xrd.metadata.name).toBe(`${xrd.spec.names.plural}.${xrd.spec.group}`);
    expect(xrd.spec).toMatchObject({
      group: 'platform.example.org',
      names: { kind: 'XSecureBucket', plural: 'xsecurebuckets' },
      claimNames: { kind: 'XSecureBucketClaim', plural: 'xsecurebucketclaims' },
      scope: 'LegacyCluster',
    });
    expect(xrd.spec.versions.map(({ name, served, referenceable }) => ({ name, served, referenceable }))).toEqual([
      { name: 'v1alpha1', served: true, referenceable: true },
    ]);
  });

  it('uses, and enforces, the secure-bucket Composition', () => {
    expect(xrd.spec.defaultCompositionRef?.name).toBe(composition.metadata.name);
    expect(xrd.spec.enforcedCompositionRef?.name).toBe(composition.metadata.name);
  });
});

describe('the v2 XRD', () => {
  it('uses, and enforces, the secure-bucket-v2 Composition, which composes its type', () => {
    expect(xrdV2.metadata.name).toBe(`${xrdV2.spec.names.plural}.${xrdV2.spec.group}`);
    expect(xrdV2.spec.defaultCompositionRef?.name).toBe(compositionV2.metadata.name);
    expect(xrdV2.spec.enforcedCompositionRef?.name).toBe(compositionV2.metadata.name);
    expect(compositionV2.metadata.name).toBe('secure-bucket-v2');
    expect(compositionV2.spec.compositeTypeRef).toEqual({ apiVersion: `${xrdV2.spec.group}/${xrdV2.spec.versions[0]!.name}`, kind: xrdV2.spec.names.kind });
  });
});

describe('both Compositions', () => {
  it('run the same pipeline (same steps, input and declared requirements)', () => {
    expect(compositionV2.spec.mode).toBe('Pipeline');
    expect(compositionV2.spec.pipeline).toEqual(composition.spec.pipeline);
  });

  it('declare the EnvironmentConfig the input names, under the key the function reads first', () => {
    const step = composition.spec.pipeline[0]!;
    expect(step.requirements?.requiredResources).toEqual([
      {
        requirementName: DECLARED_ENVIRONMENT_REQUIREMENT,
        apiVersion: 'apiextensions.crossplane.io/v1beta1',
        kind: environment.kind,
        name: step.input?.['environmentConfigName'],
      },
    ]);
    expect(environment.metadata.name).toBe(step.input?.['environmentConfigName']);
  });
});

describe('the Composition', () => {
  it('composes the XRD type in Pipeline mode: our function, then function-auto-ready', () => {
    expect(composition.metadata.name).toBe('secure-bucket');
    expect(composition.spec.compositeTypeRef).toEqual({ apiVersion: `${xrd.spec.group}/${xrd.spec.versions[0]!.name}`, kind: xrd.spec.names.kind });
    expect(composition.spec.mode).toBe('Pipeline');
    expect(composition.spec.pipeline.map((s) => [s.step, s.functionRef.name])).toEqual([
      ['render-secure-bucket', 'function-secure-bucket'],
      ['automatically-detect-ready-composed-resources', 'function-auto-ready'],
    ]);
  });

  it("passes our function the example EnvironmentConfig's name, and nothing tenant-facing", () => {
    expect(environment.kind).toBe('EnvironmentConfig');
    // No resource-family switch: the function tells the XR's scope from the XR (composition-v2.yaml).
    expect(composition.spec.pipeline[0]!.input).toEqual({
      apiVersion: 'securebucket.fn.platform.example.org/v1beta1',
      kind: 'Input',
      environmentConfigName: environment.metadata.name,
    });
  });
});

describe('the Configuration package', () => {
  const deps = configuration.spec.dependsOn;
  const repositoryOf = (pkg: string) => pkg.split('/').pop()!;
  const providerMembers = ['s3', 's3control', 'kms', 'iam', 'ec2', 'eks', 'cloudwatch', 'cloudwatchevents', 'sns'];

  it('is the secure-bucket-platform Configuration for Crossplane v2', () => {
    expect(configuration).toMatchObject({ apiVersion: 'meta.pkg.crossplane.io/v1', kind: 'Configuration', metadata: { name: 'secure-bucket-platform' } });
    expect(configuration.spec.crossplane.version).toMatch(/^>=v2\.\d+\.\d+/);
  });

  it('admits every Crossplane v2 release (the v2 XRD exists from v2.0.0), not v1 or v3 (no LegacyCluster promised there)', () => {
    const constraint = configuration.spec.crossplane.version;
    expect(['v2.0.0', 'v2.3.4', 'v2.9.0'].map((v) => [v, satisfies(v, constraint)])).toEqual([
      ['v2.0.0', true],
      ['v2.3.4', true],
      ['v2.9.0', true],
    ]);
    expect(['v1.20.0', 'v3.0.0'].map((v) => [v, satisfies(v, constraint)])).toEqual([
      ['v1.20.0', false],
      ['v3.0.0', false],
    ]);
  });

  it('carries the annotations registries show, the readme included', () => {
    for (const key of ['maintainer', 'description', 'readme']) expect(configuration.metadata.annotations[`meta.crossplane.io/${key}`]?.trim()).toBeTruthy();
    expect(configuration.metadata.annotations['meta.crossplane.io/readme']).toMatch(/XSecureBucket[\s\S]*https:\/\//);
  });

  it('declares no capabilities (Crossplane reads them only from Functions and Providers)', () => {
    expect(configuration.spec.capabilities).toBeUndefined();
  });

  it('names every dependency with apiVersion/kind/package and an exact version (no ranges, no tags in the package)', () => {
    for (const dep of deps) {
      expect(dep.apiVersion).toBe('pkg.crossplane.io/v1');
      expect(['Provider', 'Function']).toContain(dep.kind);
      expect(dep.package).toMatch(/^[a-z0-9.-]+(\/[a-z0-9._-]+)+$/); // registry/org/repository, no :tag or @digest
      expect(dep.version).toMatch(/^v\d+\.\d+\.\d+$/);
      expect(dep.provider ?? dep.function).toBeUndefined(); // the deprecated forms
    }
    expect(new Set(deps.map((d) => d.package)).size).toBe(deps.length);
  });

  it('pins provider-family-aws and the family members the function uses at v2.6.0', () => {
    const providers = deps.filter((d) => d.kind === 'Provider');
    const expected = ['provider-family-aws', ...providerMembers.map((m) => `provider-aws-${m}`)];
    expect(providers.map((d) => d.package!).sort()).toEqual(expected.map((r) => `xpkg.crossplane.io/crossplane-contrib/${r}`).sort());
    expect(new Set(providers.map((d) => d.version))).toEqual(new Set(['v2.6.0']));
  });

  it('has a Function dependency for every function the Composition calls', () => {
    const functions = deps.filter((d) => d.kind === 'Function');
    const called = composition.spec.pipeline.map((s) => s.functionRef.name);
    expect(functions.map((d) => repositoryOf(d.package!)).sort()).toEqual([...called].sort());
    expect(functions.find((d) => repositoryOf(d.package!) === 'function-secure-bucket')).toMatchObject({
      package: 'ghcr.io/example-org/function-secure-bucket',
      version: 'v0.1.0',
    });
    expect(functions.find((d) => repositoryOf(d.package!) === 'function-auto-ready')?.package).toBe(
      'xpkg.crossplane.io/crossplane-contrib/function-auto-ready',
    );
  });
});

/** A Crossplane version constraint of comma-separated comparisons (">=v2.0.0, <v3.0.0"). */
function satisfies(version: string, constraint: string): boolean {
  const parse = (v: string) => v.replace(/^v/, '').split('.').map(Number);
  const compare = (a: number[], b: number[]) => a.reduce((d, x, i) => d || Math.sign(x - (b[i] ?? 0)), 0);
  return constraint.split(',').every((part) => {
    const m = /^\s*(>=|<=|>|<|=)?\s*(v?\d+\.\d+\.\d+)\s*$/.exec(part);
    if (!m) throw new Error(`cannot read the constraint ${JSON.stringify(part)}`);
    const d = compare(parse(version), parse(m[2]!));
    return { '>=': d >= 0, '<=': d <= 0, '>': d > 0, '<': d < 0, '=': d === 0 }[m[1] ?? '=']!;
  });
}
