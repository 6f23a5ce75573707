// Every YAML file in the repo (committed or new, hand-written or produced by a tool) parses and
// each document validates against its schema. The list is read when the tests run, so files
// appear here as soon as someone adds them.
import { describe, it, expect } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { listCommittedYamlFiles, loadYamlDocuments } from '../lib/repo.js';
import { getSchemaRegistry, isNonApiDocument, isNonApiFile } from '../lib/schema-validator.js';

type Doc = { [key: string]: unknown };
const isObject = (value: unknown): value is Doc => typeof value === 'object' && value !== null && !Array.isArray(value);

// A dependency is pinned when it names one exact release (or image digest), never a range or "latest".
const EXACT_VERSION = /^(v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?|sha256:[0-9a-f]{64})$/;
const PACKAGE_KEYS = ['package', 'provider', 'function', 'configuration'];

/**
 * Crossplane package metadata (crossplane.yaml) has no upstream schema in shared/: check what
 * matters for a reproducible install. Returns the problems found.
 */
function packageMetadataProblems(doc: Doc): string[] {
  const problems: string[] = [];
  const metadata = isObject(doc['metadata']) ? doc['metadata'] : {};
  if (typeof metadata['name'] !== 'string' || metadata['name'] === '') problems.push('metadata.name is not set');
  const spec = isObject(doc['spec']) ? doc['spec'] : {};
  const dependsOn = spec['dependsOn'] ?? [];
  if (!Array.isArray(dependsOn)) return [...problems, 'spec.dependsOn is not a list'];
  dependsOn.forEach((dependency: unknown, i) => {
    const at = `spec.dependsOn[${i}]`;
    const entry = isObject(dependency) ? dependency : {};
    const packages = PACKAGE_KEYS.filter((key) => typeof entry[key] === 'string');
    if (packages.length !== 1) problems.push(`${at} must name exactly one of ${PACKAGE_KEYS.join(', ')}`);
    const ref = String(entry[packages[0] ?? ''] ?? '');
    if (/[:@]/.test(ref.split('/').pop() ?? '')) problems.push(`${at} ${ref}: put the version in "version", not in the package reference`);
    const version = entry['version'];
    if (typeof version !== 'string' || !EXACT_VERSION.test(version)) {
      problems.push(`${at} ${ref}: version ${JSON.stringify(version)} is not pinned to one release (no ranges, no "latest")`);
    }
  });
  return problems;
}

const isPackageMetadata = (doc: Doc): boolean => String(doc['apiVersion']).startsWith('meta.pkg.crossplane.io/');

/**
 * A Composition's function inputs are embedded objects the apiserver never checks (the field
 * preserves unknown fields); the functions' Input CRDs in the repo describe them.
 */
function pipelineInputs(doc: Doc): { at: string; input: unknown }[] {
  if (doc['apiVersion'] !== 'apiextensions.crossplane.io/v1' || doc['kind'] !== 'Composition') return [];
  const pipeline = isObject(doc['spec']) ? doc['spec']['pipeline'] : undefined;
  return (Array.isArray(pipeline) ? pipeline : [])
    .map((step: unknown, i) => ({ at: `spec.pipeline[${i}].input`, input: isObject(step) ? step['input'] : undefined }))
    .filter(({ input }) => input !== undefined);
}

/** All problems of one file: a parse error, schema errors, or package-metadata problems. */
function problemsOf(file: string): string[] {
  const registry = getSchemaRegistry();
  return loadYamlDocuments(file).flatMap((doc, index) => {
    const where = `${file}#${index + 1}`;
    if (isObject(doc) && isNonApiDocument(doc)) {
      return isPackageMetadata(doc) ? packageMetadataProblems(doc).map((problem) => `${where} ${problem}`) : [];
    }
    const inputErrors = (isObject(doc) ? pipelineInputs(doc) : []).flatMap(({ at, input }) =>
      registry.validate(input).errors.map((error) => `${where} ${at}: ${error}`),
    );
    return [...registry.validate(doc).errors.map((error) => `${where} ${error}`), ...inputErrors];
  });
}

const files = listCommittedYamlFiles();

describe('the repo YAML file list', () => {
  it('holds the example claims and the platform environment, nothing from node_modules or dist', () => {
    expect(files).toEqual(expect.arrayContaining(['compositions/examples/environment.yaml', 'compositions/examples/claims/scratch.yaml']));
    expect(files.filter((file) => /(^|\/)(node_modules|dist)\//.test(file))).toEqual([]);
  });
});

describe('every YAML file in the repo validates', () => {
  for (const file of files) {
    it(file, () => {
      // Tool configuration (e.g. kustomization.yaml) must still parse.
      if (isNonApiFile(file)) {
        expect(() => loadYamlDocuments(file)).not.toThrow();
        return;
      }
      expect(problemsOf(file)).toEqual([]);
    });
  }
});

describe('the checks themselves', () => {
  it('report a file that does not parse, naming the file', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'schema-test-')), 'broken.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  name: b\n');
    expect(() => problemsOf(file)).toThrow(/cannot parse YAML in .*broken\.yaml: .*duplicated mapping key/);
  });

  it('report every invalid document of a multi-document file with its position', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'schema-test-')), 'two.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: bad}\nautomount: true\n---\napiVersion: example.org/v1\nkind: Nothing\nmetadata: {name: x}\n',
    );
    expect(problemsOf(file)).toEqual([
      `${file}#2 ServiceAccount/bad: / must NOT have additional properties: unknown field "automount"`,
      `${file}#3 Nothing/x: no schema for example.org/v1 Nothing`,
    ]);
  });

  it('check Composition function inputs against the Input CRDs in the repo', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'schema-test-')), 'composition.yaml');
    const input = (field: string) => `{apiVersion: example.org/v1, kind: Nothing, ${field}: 1}`;
    const steps = [input('a'), input('b')].map((value, i) => `  - step: s${i}\n    functionRef: {name: f}\n    input: ${value}\n`).join('');
    writeFileSync(
      file,
      `apiVersion: apiextensions.crossplane.io/v1\nkind: Composition\nmetadata: {name: c}\nspec:\n  compositeTypeRef: {apiVersion: a/v1, kind: X}\n  mode: Pipeline\n  pipeline:\n${steps}`,
    );
    expect(problemsOf(file)).toEqual([
      `${file}#1 spec.pipeline[0].input: Nothing/<unnamed>: no schema for example.org/v1 Nothing`,
      `${file}#1 spec.pipeline[1].input: Nothing/<unnamed>: no schema for example.org/v1 Nothing`,
    ]);
  });

  it('accept pinned Crossplane package dependencies and reject ranges, "latest" and missing names', () => {
    const configuration = (dependsOn: unknown[], name = 'secure-buckets'): Doc => ({
      apiVersion: 'meta.pkg.crossplane.io/v1',
      kind: 'Configuration',
      metadata: { name },
      spec: { dependsOn },
    });
    const pinned = [
      { provider: 'xpkg.crossplane.io/crossplane-contrib/provider-aws-s3', version: 'v2.6.0' },
      { function: 'xpkg.crossplane.io/crossplane-contrib/function-auto-ready', version: 'sha256:' + 'a'.repeat(64) },
    ];
    expect(packageMetadataProblems(configuration(pinned))).toEqual([]);
    expect(
      packageMetadataProblems(
        configuration(
          [
            { provider: 'xpkg.crossplane.io/crossplane-contrib/provider-aws-s3', version: '>=v2.0.0' },
            { function: 'xpkg.crossplane.io/crossplane-contrib/function-auto-ready:latest', version: 'latest' },
            { version: 'v1.0.0' },
          ],
          '',
        ),
      ),
    ).toEqual([
      'metadata.name is not set',
      'spec.dependsOn[0] xpkg.crossplane.io/crossplane-contrib/provider-aws-s3: version ">=v2.0.0" is not pinned to one release (no ranges, no "latest")',
      'spec.dependsOn[1] xpkg.crossplane.io/crossplane-contrib/function-auto-ready:latest: put the version in "version", not in the package reference',
      'spec.dependsOn[1] xpkg.crossplane.io/crossplane-contrib/function-auto-ready:latest: version "latest" is not pinned to one release (no ranges, no "latest")',
      'spec.dependsOn[2] must name exactly one of package, provider, function, configuration',
    ]);
  });
});
