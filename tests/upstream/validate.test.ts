// Everything the repo commits or renders for Crossplane, checked by the real validator: `crossplane
// resource validate` of the pinned CLI (the apiextensions-apiserver's schema validation, unknown
// fields and CEL rules), offline. Extensions: the provider-aws CRDs of ../shared/schemas, our two
// XRDs (the CLI turns them into the XR and claim CRDs), our step input's CRD (the CLI validates each
// Composition step's input against it), and Crossplane core's own CRDs from the
// pinned core module, seeded as the cached "crossplane image" so no registry is asked.
// Checked: every managed resource of every render pass (example claims under two platform
// variants, in both resource families; every committed claim and v2 XR with its cluster's
// EnvironmentConfig), every XR those renders start from with the status the function reports,
// every committed claim and XSecureBucket, both XRDs and Compositions, the EnvironmentConfigs, the
// activation policy and the package objects the clusters apply.
import { asClaim, compositeForClaim, type Claim, converge, desiredOf, inProcessFunction } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dump } from 'js-yaml';
import { findClaimDocuments } from '../../cdk8s/claims.js';
import { EnvironmentResolver } from '../../cdk8s/environment-source.js';
import { namespacedXrFor } from '../../functions/secure-bucket/cli/xr/namespaced.js';
import { canonicalJson } from '../../functions/secure-bucket/src/core/index.js';
import { environmentConfig, exampleClaims, podIdentityDedicatedEndpoint, type Json } from '../lib/function-fixtures.js';
import { kustomizeBuild } from '../lib/kustomize.js';
import { loadYamlDocuments, repoRoot, schemasDir } from '../lib/repo.js';
import { coreCrdsDir, runUpstream, upstreamPins } from '../lib/upstream.js';

interface Result {
  apiVersion: string;
  kind: string;
  name: string;
  status: string;
  errors?: Array<{ type: string; field?: string; message: string }>;
}
interface Report {
  summary: { total: number; valid: number; invalid: number; missingSchemas: number };
  resources: Result[];
}

const work = mkdtempSync(path.join(tmpdir(), 'xp-validate-'));
const cacheDir = path.join(work, 'cache');
// A pinned tag, not :stable, so the cache entry is exactly the pinned core's CRDs.
const crossplaneImage = `xpkg.crossplane.io/crossplane/crossplane:${upstreamPins()['CROSSPLANE_CORE_VERSION']}`;
const extensions = [
  path.join(schemasDir, 'provider-aws'),
  path.join(schemasDir, 'provider-aws-namespaced'),
  path.join(repoRoot, 'compositions/definition.yaml'),
  path.join(repoRoot, 'compositions/definition-v2.yaml'),
  path.join(repoRoot, 'functions/secure-bucket/package/input'),
];

beforeAll(() => {
  // cache.go: <cache-dir>/<image with ':' -> '@'>/package.yaml, read with os.Stat: no download.
  const seeded = path.join(cacheDir, crossplaneImage.replace(/:([^:]+)$/, '@$1'));
  mkdirSync(seeded, { recursive: true });
  const crds = readdirSync(coreCrdsDir())
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  writeFileSync(path.join(seeded, 'package.yaml'), crds.map((f) => readFileSync(path.join(coreCrdsDir(), f), 'utf8')).join('\n---\n'));
});

/** One validate run over `objects`; each object named uniquely so a result points back at it. */
async function validate(objects: Json[]): Promise<Report & { code: number | null; stderr: string }> {
  const file = path.join(work, `resources-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, objects.map((o) => `---\n${dump(o, { lineWidth: -1, noRefs: true })}`).join(''));
  const ran = await runUpstream(
    'crossplane',
    [
      'resource',
      'validate',
      extensions.join(','),
      file,
      '--cache-dir',
      cacheDir,
      '--crossplane-image',
      crossplaneImage,
      '--error-on-missing-schemas',
      '--skip-success-results',
      '-o',
      'json',
    ],
    { timeoutMs: 300_000 },
  );
  const start = ran.stdout.indexOf('{');
  if (start < 0) throw new Error(`crossplane resource validate printed no report (exit ${ran.code}):\n${ran.stderr}\n${ran.stdout}`);
  return { ...(JSON.parse(ran.stdout.slice(start)) as Report), code: ran.code, stderr: ran.stderr };
}

const problems = (r: Report) =>
  r.resources
    .filter((x) => x.status !== 'valid')
    .map((x) => `${x.kind}/${x.name} ${x.status}: ${(x.errors ?? []).map((e) => `${e.field ?? ''} ${e.message}`).join('; ')}`);

// JSON round trip, not structuredClone: under jest that returns objects of another realm, which js-yaml's dump refuses.
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function named(obj: Json, name: string): Json {
  const metadata = {
    ...(obj['metadata'] as Json | undefined),
    name: name
      .toLowerCase()
      .replace(/[^a-z0-9.-]+/g, '-')
      .slice(0, 250),
  };
  return { ...obj, metadata };
}

/** Every pass of one request (claim or v2 XR) in the simulated control plane: its MRs and its XR with status. */
async function rendered(claim: Claim, environment: Json, label: string): Promise<Json[]> {
  const composite = compositeForClaim(claim);
  const r = await converge(inProcessFunction, composite, { clusterObjects: [environment], converge: true, maxPasses: 8 });
  if (r.fatal) throw new Error(`${label}: Fatal ${r.fatal}`);
  const out: Json[] = [];
  r.history.forEach(({ response }, i) => {
    const { resources, status } = desiredOf(response);
    for (const [key, mr] of Object.entries(resources)) out.push(named(mr, `${label}.p${i + 1}.${key}`));
    out.push({ ...composite, status });
  });
  return out;
}

const clusterEnvironment = new EnvironmentResolver(repoRoot);
const committed = findClaimDocuments(repoRoot).map(({ file, doc }) => ({ file: path.relative(repoRoot, file), claim: asClaim(doc, file), doc }));

describe('crossplane resource validate (pinned CLI, offline)', () => {
  const objects: Json[] = [];
  let report: Report & { code: number | null; stderr: string };

  beforeAll(async () => {
    const platforms: Array<[string, Json]> = [
      ['irsa', environmentConfig()],
      ['podidentity', environmentConfig(podIdentityDedicatedEndpoint)],
    ];
    const renders: Array<Promise<Json[]>> = [];
    for (const [platform, env] of platforms) {
      for (const { claim } of exampleClaims()) {
        renders.push(rendered(claim, env, `${platform}.${claim.metadata.name}`));
        renders.push(rendered(namespacedXrFor(claim), env, `${platform}.v2.${claim.metadata.name}`));
      }
    }
    for (const { file, claim } of committed) {
      const environment = {
        apiVersion: 'apiextensions.crossplane.io/v1beta1',
        kind: 'EnvironmentConfig',
        metadata: { name: 'secure-bucket-platform' },
        data: clusterEnvironment.forClaim(path.join(repoRoot, file)).data,
      } as Json;
      renders.push(rendered(claim, environment, file.replace(/\.yaml$/, '')));
    }
    const all = (await Promise.all(renders)).flat();
    // The same object from two passes or two variants is validated once.
    const seen = new Set<string>();
    for (const o of all) {
      const key = canonicalJson({ ...o, metadata: { ...(o['metadata'] as Json), name: '' } });
      if (!seen.has(key)) {
        seen.add(key);
        objects.push(o);
      }
    }
    // What the repo commits for Crossplane: claims and v2 XRs as written, the platform API, the
    // clusters' EnvironmentConfigs (patched per cluster), packages and activation policy.
    objects.push(...committed.map(({ doc }) => doc));
    for (const f of [
      'compositions/definition.yaml',
      'compositions/definition-v2.yaml',
      'compositions/composition.yaml',
      'compositions/composition-v2.yaml',
      'compositions/examples/environment.yaml',
    ])
      objects.push(...(loadYamlDocuments(f) as Json[]));
    for (const cluster of ['staging', 'production']) {
      for (const stage of ['platform', 'crossplane-packages']) {
        objects.push(
          ...(kustomizeBuild(`clusters/${cluster}/${stage}`) as unknown as Json[])
            .filter((o) => /crossplane\.io\/|upbound\.io\//.test(String(o['apiVersion'])))
            .map((o) => named(o, `${cluster}.${String((o['metadata'] as Json)['name'])}`)),
        );
      }
    }
    report = await validate(objects);
  }, 600_000);

  it('finds a schema for every object and no error in any (unknown fields and CEL rules enforced)', () => {
    expect(problems(report)).toEqual([]);
    // The CLI also validates each Composition step's input as a resource of its own.
    const inputs = objects.filter((o) => o['kind'] === 'Composition').length;
    expect(report.summary).toEqual({ total: objects.length + inputs, valid: objects.length + inputs, invalid: 0, missingSchemas: 0 });
    expect(report.code).toBe(0);
  });

  it('covered every kind of object it was meant to', () => {
    const kinds = new Set(objects.map((o) => `${String(o['apiVersion']).replace(/^[a-z0-9]+\.aws(\.m)?\.upbound\.io/, 'aws$1')} ${String(o['kind'])}`));
    for (const k of [
      'aws/v1beta2 Bucket',
      'aws.m/v1beta1 Bucket',
      'platform.example.org/v1alpha1 XSecureBucket',
      'platform.example.org/v1alpha1 XSecureBucketClaim',
      'storage.platform.example.org/v1alpha1 XSecureBucket',
      'apiextensions.crossplane.io/v1 CompositeResourceDefinition',
      'apiextensions.crossplane.io/v2 CompositeResourceDefinition',
      'apiextensions.crossplane.io/v1 Composition',
      'apiextensions.crossplane.io/v1beta1 EnvironmentConfig',
      'apiextensions.crossplane.io/v1alpha1 ManagedResourceActivationPolicy',
      'pkg.crossplane.io/v1 Provider',
      'pkg.crossplane.io/v1 Function',
    ]) {
      expect([...kinds]).toContain(k);
    }
    expect(objects.length).toBeGreaterThan(200);
  });
});

describe('the real validator is not vacuous', () => {
  it('reports misspelt or foreign managed-resource fields, a claim breaking an XRD CEL rule, and XRDs breaking core CEL rules', async () => {
    const claim = clone(committed.find((c) => c.claim.kind === 'XSecureBucketClaim')!.doc) as Json;
    const spec = claim['spec'] as Json;
    spec['naming'] = { strategy: 'Fixed' }; // "naming.name is required when naming.strategy is Fixed"
    const xrd = clone(loadYamlDocuments('compositions/definition.yaml')[0]) as Json;
    (xrd['spec'] as Json)['scope'] = 'Namespaced'; // claims only with LegacyCluster
    const bucket = { apiVersion: 'v1beta1', kind: 'Bucket' } as Json;
    bucket['apiVersion'] = 's3.aws.upbound.io/v1beta1';
    bucket['metadata'] = { name: 'misspelt' };
    bucket['spec'] = { forProvider: { region: 'us-east-1', forceDestory: false } };
    const xrdV2 = clone(loadYamlDocuments('compositions/definition-v2.yaml')[0]) as Json;
    (xrdV2['spec'] as Json)['claimNames'] = { kind: 'XSecureBucketClaim', plural: 'xsecurebucketclaims' };
    // The namespaced kinds have no deletionPolicy (Crossplane v2 MRs): an unknown field there.
    const namespaced = {
      apiVersion: 's3.aws.m.upbound.io/v1beta1',
      kind: 'Bucket',
      metadata: { name: 'orphaned', namespace: 'team-sales' },
      spec: { forProvider: { region: 'us-east-1' }, deletionPolicy: 'Orphan' },
    };
    const report = await validate([named(claim, 'bad-claim'), named(xrd, 'bad-xrd'), named(xrdV2, 'bad-xrd-v2'), bucket, namespaced]);
    const text = problems(report).join('\n');
    expect(text).toMatch(/Bucket\/misspelt.*forceDestory/);
    expect(text).toMatch(/bad-claim.*naming.name is required when naming.strategy is Fixed/);
    expect(text).toMatch(/bad-xrd .*Only LegacyCluster composite resources can offer claims/);
    expect(text).toMatch(/bad-xrd-v2.*Claims aren't supported in apiextensions.crossplane.io\/v2/);
    expect(text).toMatch(/Bucket\/orphaned.*deletionPolicy/);
    expect(report.code).not.toBe(0);
  }, 120_000);
});
