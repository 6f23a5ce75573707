// The Function package: its metadata, and the CRD of the step input checked the way the
// apiserver and the function would use it (structural schema, default valid against itself,
// the same default the function falls back to).

import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { loadAll } from 'js-yaml';
import { DEFAULT_ENVIRONMENT_CONFIG } from '../../functions/secure-bucket/src/function.js';
import { FUNCTION_DIR } from './harness.js';

type Obj = Record<string, unknown>;
const PACKAGE_DIR = join(FUNCTION_DIR, 'package');
const loadDocs = (file: string): Obj[] => loadAll(readFileSync(file, 'utf8')).filter((d): d is Obj => typeof d === 'object' && d !== null);

describe('package/crossplane.yaml', () => {
  const [meta, ...rest] = loadDocs(join(PACKAGE_DIR, 'crossplane.yaml'));
  const metadata = meta?.metadata as { name: string; annotations: Record<string, string> };

  it('is one meta.pkg.crossplane.io/v1 Function named function-secure-bucket', () => {
    expect(rest).toEqual([]);
    expect(meta).toMatchObject({ apiVersion: 'meta.pkg.crossplane.io/v1', kind: 'Function' });
    expect(metadata.name).toBe('function-secure-bucket');
  });

  it('carries the annotations registries show, the readme included (as function-template-typescript does)', () => {
    for (const key of ['maintainer', 'source', 'description', 'license', 'readme']) {
      expect(metadata.annotations[`meta.crossplane.io/${key}`]?.trim()).toBeTruthy();
    }
    expect(metadata.annotations['meta.crossplane.io/source']).toMatch(/^https:\/\//);
  });

  it('requires Crossplane v2 (namespaced XRs, step-declared required resources)', () => {
    expect((meta?.spec as { crossplane: { version: string } }).crossplane.version).toMatch(/^>=\s*v2\.\d+\.\d+$/);
  });

  it('declares the composition capability, and not operation (it runs in Composition pipelines only)', () => {
    // Crossplane v2.3 apis/pkg/meta/v1/capabilities.go: composition, operation (and safe-start for providers).
    expect((meta?.spec as { capabilities?: string[] }).capabilities).toEqual(['composition']);
  });
});

describe('package/input CRD', () => {
  const files = readdirSync(join(PACKAGE_DIR, 'input'));
  const docs = files.flatMap((f) => loadDocs(join(PACKAGE_DIR, 'input', f)));
  const crd = docs[0] as {
    apiVersion: string;
    kind: string;
    metadata: { name: string };
    spec: {
      group: string;
      names: { kind: string; plural: string };
      versions: Array<{ name: string; served: boolean; storage: boolean; schema: { openAPIV3Schema: Obj } }>;
    };
  };
  const version = crd.spec.versions[0]!;
  const schema = version.schema.openAPIV3Schema;
  const validate = new Ajv({ strict: false, useDefaults: true }).compile(schema);

  it('is one CRD for securebucket.fn.platform.example.org/v1beta1 Input, named like the generator names it', () => {
    expect(docs).toHaveLength(1);
    expect(crd).toMatchObject({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' });
    expect(crd.spec.group).toBe('securebucket.fn.platform.example.org');
    expect(crd.spec.names.kind).toBe('Input');
    expect(crd.metadata.name).toBe(`${crd.spec.names.plural}.${crd.spec.group}`);
    expect(files).toEqual([`${crd.spec.group}_${crd.spec.names.plural}.yaml`]);
    expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([['v1beta1', true, true]]);
  });

  it('has a structural schema (every property typed)', () => {
    const untyped: string[] = [];
    const walk = (node: Obj, path: string): void => {
      if (typeof node.type !== 'string' && node['x-kubernetes-preserve-unknown-fields'] !== true) untyped.push(path);
      for (const [k, child] of Object.entries((node.properties as Record<string, Obj> | undefined) ?? {})) walk(child, `${path}.${k}`);
      if (node.items) walk(node.items as Obj, `${path}[]`);
    };
    walk(schema, '');
    expect(untyped).toEqual([]);
  });

  const input = (extra: Obj = {}): Obj => ({ apiVersion: 'securebucket.fn.platform.example.org/v1beta1', kind: 'Input', ...extra });

  it('defaults environmentConfigName to what the function falls back to, and the default is valid', () => {
    const prop = (schema.properties as Record<string, Obj>).environmentConfigName!;
    expect(prop.default).toBe(DEFAULT_ENVIRONMENT_CONFIG);
    const filled = input();
    expect(validate(filled)).toBe(true);
    expect(filled.environmentConfigName).toBe(DEFAULT_ENVIRONMENT_CONFIG);
  });

  it('accepts Kubernetes object names and rejects anything else', () => {
    const valid = ['platform', 'secure-bucket-prod', 'team.env-1', 'a'.repeat(253)];
    const invalid = ['', 'Secure', 'under_score', '-lead', 'trail-', 'a..b', 'a'.repeat(254), 42];
    const verdicts = (names: unknown[]): Array<[unknown, boolean]> => names.map((n) => [n, validate(input({ environmentConfigName: n }))]);
    expect(verdicts(valid)).toEqual(valid.map((n) => [n, true]));
    expect(verdicts(invalid)).toEqual(invalid.map((n) => [n, false]));
  });
});
