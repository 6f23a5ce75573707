// The Configuration and Function packages as `crossplane xpkg build` (the pinned CLI) makes them
// and `crossplane xpkg extract` reads them back: what they hold, and that the Configuration asks
// for exactly the packages, at exactly the versions, that clusters/ installs.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadAll } from 'js-yaml';
import { kustomizeBuild, type K8sObject } from '../lib/kustomize.js';
import { loadYamlDocuments, repoRoot } from '../lib/repo.js';
import { upstreamBinary } from '../lib/upstream.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown> };
interface Dependency {
  apiVersion: string;
  kind: string;
  package: string;
  version: string;
}

const out = path.join(repoRoot, 'dist/packages');
const contents = (name: string): Obj[] =>
  loadAll(gunzipSync(readFileSync(path.join(out, `${name}.package.yaml.gz`))).toString('utf8')).filter(Boolean) as Obj[];
let configuration: Obj[];
let fn: Obj[];

beforeAll(() => {
  upstreamBinary('crossplane'); // fails with how to build it when missing
  // Always rebuilt: a package from an older tree would prove nothing (a build takes seconds).
  execFileSync(path.join(repoRoot, 'upstream/package.sh'), { cwd: repoRoot, stdio: 'pipe', env: { ...process.env, EMBED_RUNTIME: 'no' } });
  configuration = contents('secure-bucket-platform');
  fn = contents('function-secure-bucket');
}, 120_000);

describe('the Configuration package (dist/packages/secure-bucket-platform.xpkg)', () => {
  it('is an OCI image tarball with the package layer', () => {
    const list = execFileSync('tar', ['-tf', path.join(out, 'secure-bucket-platform.xpkg')], { encoding: 'utf8' });
    expect(list).toMatch(/manifest\.json/);
  });

  it('holds the meta Configuration, both XRDs, both Compositions and the activation policy, nothing else', () => {
    const kinds = configuration.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    const expected = [
      'compositions/definition.yaml',
      'compositions/definition-v2.yaml',
      'compositions/composition.yaml',
      'compositions/composition-v2.yaml',
      'clusters/base/crossplane-packages/activation-policy.yaml',
      'compositions/crossplane.yaml',
    ].flatMap((f) => loadYamlDocuments(f) as Obj[]);
    expect(kinds).toEqual(expected.map((o) => `${o.kind}/${o.metadata.name}`).sort());
    // The objects as committed: the build adds nothing and drops nothing. (It decodes them into
    // Crossplane's Go types, which write empty status defaults back: status is not ours.)
    const withoutStatus = ({ status: _status, ...o }: Obj & { status?: unknown }) => o;
    for (const o of expected) expect(configuration.map(withoutStatus)).toContainEqual(withoutStatus(o));
  });

  it('lists the function and every provider it needs at the versions clusters/ installs', () => {
    const meta = configuration.find((o) => o.apiVersion.startsWith('meta.pkg.crossplane.io/'))!;
    const deps = (meta.spec!['dependsOn'] as Dependency[]).map((d) => `${d.kind} ${d.package}:${d.version}`).sort();
    const installed = (kustomizeBuild(path.join(repoRoot, 'clusters/base/crossplane-packages')) as Array<K8sObject & { spec?: { package?: string } }>)
      .filter((o) => o.apiVersion === 'pkg.crossplane.io/v1' && (o.kind === 'Provider' || o.kind === 'Function'))
      .map((o) => `${o.kind} ${o.spec!.package!}`)
      .sort();
    expect(deps).toEqual(installed);
    expect(deps).toContain('Function ghcr.io/example-org/function-secure-bucket:v0.1.0');
    expect(deps.filter((d) => d.startsWith('Provider '))).toHaveLength(10);
  });

  it('carries the example claims in its examples layer', () => {
    const list = execFileSync('tar', ['-tf', path.join(out, 'secure-bucket-platform.xpkg')], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.tar.gz') || f.endsWith('.tar'));
    expect(list.length).toBeGreaterThanOrEqual(2); // the package layer and the examples layer
  });
});

describe('the Function package (dist/packages/function-secure-bucket.xpkg)', () => {
  it('holds the meta Function (composition capability) and the step input CRD', () => {
    expect(fn.map((o) => `${o.apiVersion} ${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'apiextensions.k8s.io/v1 CustomResourceDefinition/inputs.securebucket.fn.platform.example.org',
      'meta.pkg.crossplane.io/v1 Function/function-secure-bucket',
    ]);
    expect(fn.find((o) => o.kind === 'Function')!.spec!['capabilities']).toEqual(['composition']);
  });

  it('is metadata only where no Docker daemon builds the runtime image (README: publish from a machine with Docker)', () => {
    expect(existsSync(path.join(out, 'function-secure-bucket.xpkg'))).toBe(true);
  });
});
