// The render CLI end to end: it starts the real function, speaks gRPC to it, and prints what
// Crossplane would apply. Needs the compiled CLI (`make test` builds it first).
import { describe, expect, it, beforeAll } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { endpointPolicy, readEnvironment } from '../../functions/secure-bucket/src/core/index.js';
import { assertBuilt, render } from '../lib/render-cli.js';
import { repoRoot } from '../lib/repo.js';

beforeAll(assertBuilt);

describe('render', () => {
  it('--converge --output json: resources, status, results and the passes it took', () => {
    const run = render(['--converge', '--output', 'json', 'compositions/examples/claims/sales-events.yaml']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout) as {
      claims: Array<{ resources: Array<Record<string, unknown>>; status: Record<string, unknown>; passes: number; results: unknown[] }>;
      errors: unknown[];
    };
    expect(doc.errors).toEqual([]);
    expect(doc.claims).toHaveLength(1);
    const out = doc.claims[0]!;
    // Pass 1 observes what AWS holds, pass 2 takes over and creates, pass 3 pins the key ARN.
    expect(out.passes).toBe(3);
    expect(out.status['kmsKeyArn']).toMatch(/^arn:aws:kms:/);
    expect(out.resources.map((r) => r['kind'])).toEqual(expect.arrayContaining(['Bucket', 'BucketPolicy', 'Key', 'Role', 'AccessPoint']));
  });

  it('YAML by default: one document per resource, each named after its composition resource', () => {
    const run = render(['--converge', 'compositions/examples/claims/scratch.yaml']);
    expect(run.status).toBe(0);
    const docs = loadAll(run.stdout) as Array<{ metadata: { annotations: Record<string, string> } }>;
    expect(docs.length).toBeGreaterThanOrEqual(8);
    expect(docs.map((d) => d.metadata.annotations['crossplane.io/composition-resource-name'])).toContain('bucket-policy');
  });

  it('without --converge: the first reconcile, which only observes what may already exist in AWS', () => {
    const run = render(['compositions/examples/claims/scratch.yaml']);
    expect(run.status).toBe(0);
    const docs = loadAll(run.stdout) as Array<{ kind: string; spec: { managementPolicies?: string[]; deletionPolicy: string } }>;
    expect(docs.map((d) => d.kind)).toEqual(expect.arrayContaining(['Bucket', 'Key', 'BucketPolicy']));
    for (const d of docs) expect([d.kind, d.spec.managementPolicies, d.spec.deletionPolicy]).toEqual([d.kind, ['Observe'], 'Orphan']);
  });

  it('an invalid claim exits 1 with the field and the fix on stderr', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'render-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: platform.example.org/v1alpha1\nkind: XSecureBucketClaim\nmetadata: {name: bad, namespace: team-sales}\nspec:\n  consumers:\n    - {name: a, serviceAccount: a, access: Read, prefixes: ["*"]}\n',
    );
    const run = render([file]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/team-sales\/bad: spec\.consumers\[0\]\.prefixes\[0\]: '\*' is not allowed\. Fix: /);
    expect(run.stdout).toBe('');
  });

  it("--endpoint-policy prints the shared endpoint's policy for the environment, canonical", () => {
    const run = render(['--endpoint-policy', '--environment', 'compositions/examples/environment.yaml']);
    expect(run.status).toBe(0);
    const env = readEnvironment((loadAll(readFileSync(path.join(repoRoot, 'compositions/examples/environment.yaml'), 'utf8'))[0] as { data: unknown }).data);
    expect(run.stdout.trim()).toBe(endpointPolicy(env, 'us-east-1'));
    expect(JSON.parse(run.stdout).Statement.map((s: { Sid: string }) => s.Sid)).toContain('EcrImageLayers');
  });

  it('a file that is not a claim is refused with its name', () => {
    const run = render(['compositions/examples/environment.yaml']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/environment\.yaml: kind is EnvironmentConfig, expected XSecureBucketClaim/);
  });
});
