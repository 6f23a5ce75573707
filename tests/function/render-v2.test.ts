// render takes v2 XSecureBucket files besides claims: a v2 XR is rendered as it is (its own XR)
// with the v2 Composition's step, into namespaced managed resources, under the AWS names a claim
// of the same namespace and name gets.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dump, load, loadAll } from 'js-yaml';
import { asClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { migratedXrDocument } from '../../functions/secure-bucket/cli/xr/migrate.js';
import { CLAIM_API, TAKE_OVER_ANNOTATION } from '../../functions/secure-bucket/src/core/index.js';
import { exampleClaims } from '../lib/function-fixtures.js';
import { assertBuilt, render, scratchDir, writeClaimFile } from '../lib/render-cli.js';
import { repoRoot } from '../lib/repo.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML read deep in assertions; a wrong path fails the assertion
type Deep = any;

beforeAll(assertBuilt);

type Rendered = {
  claims: Array<{ claim: { namespace: string; name: string }; resources: Array<Record<string, Deep>>; status: Record<string, unknown> }>;
  errors: Array<{ source: string; message: string }>;
};
const V2_FILE = 'clusters/staging/tenants/team-sales/sales-events.yaml';

describe('render with v2 XSecureBucket files', () => {
  it('renders a v2 XR into *.aws.m.upbound.io resources in its namespace, with the AWS names of the same claim', () => {
    const v2 = render(['--converge', '--output', 'json', V2_FILE]);
    expect(v2.stderr).toBe('');
    expect(v2.status).toBe(0);
    const out = (JSON.parse(v2.stdout) as Rendered).claims;
    expect(out).toHaveLength(1);
    const resources = out[0]!.resources;
    expect(resources.length).toBeGreaterThan(10);
    expect(resources.filter((r) => !/^[a-z0-9]+\.aws\.m\.upbound\.io\/v1beta1$/.test(r['apiVersion']) || r['metadata']['namespace'] !== 'team-sales')).toEqual(
      [],
    );
    // A claim team-sales/sales-events (same spec) in the same environment: the same bucket.
    const dir = scratchDir();
    const xr = load(readFileSync(path.join(repoRoot, V2_FILE), 'utf8')) as Record<string, Deep>;
    const claim = writeClaimFile(dir, 'claim.yaml', [
      { apiVersion: 'platform.example.org/v1alpha1', kind: 'XSecureBucketClaim', metadata: xr['metadata'], spec: xr['spec'] },
    ]);
    const asClaim = JSON.parse(render(['--converge', '--output', 'json', claim]).stdout) as Rendered;
    expect(out[0]!.status['bucketName']).toBe(asClaim.claims[0]!.status['bucketName']);
  });

  it("uses the v2 Composition's step for v2 XRs and the claim Composition's for claims", () => {
    const dir = scratchDir();
    const composition = load(readFileSync(path.join(repoRoot, 'compositions/composition-v2.yaml'), 'utf8')) as Record<string, Deep>;
    const step = composition['spec']['pipeline'][0];
    step['input']['environmentConfigName'] = 'only-in-the-v2-step';
    step['requirements']['requiredResources'][0]['name'] = 'only-in-the-v2-step';
    const file = path.join(dir, 'composition-v2.yaml');
    writeFileSync(file, dump(composition));
    const run = render(['--output', 'json', '--composition-v2', file, V2_FILE, 'compositions/examples/claims/scratch.yaml']);
    expect(run.status).toBe(1);
    const doc = JSON.parse(run.stdout) as Rendered;
    expect(doc.claims.map((c) => `${c.claim.namespace}/${c.claim.name}`)).toEqual(['team-inventory/scratch']);
    expect(doc.errors).toEqual([{ source: 'team-sales/sales-events', message: expect.stringMatching(/EnvironmentConfig only-in-the-v2-step not found/) }]);
  });

  it('--migrate prints, for every example claim, the v2 XR of the same namespace and name (the one tests/function/migrate-to-v2 adopts with)', () => {
    const run = render(['--migrate', 'compositions/examples/claims']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const docs = loadAll(run.stdout).filter((d) => d !== null);
    expect(docs).toEqual(exampleClaims().map(({ claim }) => migratedXrDocument(claim)));
    for (const { claim } of exampleClaims())
      expect(asClaim(migratedXrDocument(claim), 'x').metadata).toEqual({ ...claim.metadata, annotations: { [TAKE_OVER_ANNOTATION]: CLAIM_API } });
    expect(render(['--migrate', V2_FILE]).status).toBe(1);
  });
});
