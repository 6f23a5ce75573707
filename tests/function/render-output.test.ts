// The render CLI never loses output or hides a failure: piped JSON is complete, the JSON shape is
// the same for one claim or many, a broken file is named and the other claims still render,
// --emit-xr refuses invalid claims, and a claim without consumers renders with a Warning.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { claimsDir, exampleClaim, exampleClaims, withSpec } from '../lib/function-fixtures.js';
import { assertBuilt, render, renderCli, scratchDir, writeClaimFile } from '../lib/render-cli.js';
import { repoRoot } from '../lib/repo.js';

beforeAll(assertBuilt);

interface JsonDoc {
  claims: Array<{
    claim: { namespace: string; name: string; file: string };
    resources: Array<{ kind: string }>;
    results: Array<{ severity: string; reason?: string; message: string }>;
  }>;
  errors: Array<{ source: string; message: string }>;
}

const consumers = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    name: `app-${i}`,
    serviceAccount: `app-${i}`,
    access: 'ReadWrite',
    prefixes: [`app-${i}/`, `shared/app-${i}/`],
    accessPoint: true,
  }));

describe('--output json piped into another program', () => {
  it('a 12-consumer claim through `| cat` equals the output written to a file, and is larger than a pipe buffer', () => {
    const dir = scratchDir();
    const claim = withSpec(exampleClaim('sales-events'), (s) => (s['consumers'] = consumers(12)));
    const file = writeClaimFile(dir, 'twelve.yaml', [claim]);
    const direct = path.join(dir, 'direct.json');
    const shell = (cmd: string) => execSync(cmd, { cwd: repoRoot, encoding: 'utf8', shell: '/bin/bash', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    shell(`"${process.execPath}" "${renderCli}" --converge --output json "${file}" > "${direct}"`);
    const piped = shell(`set -o pipefail; "${process.execPath}" "${renderCli}" --converge --output json "${file}" | cat`);
    const written = readFileSync(direct, 'utf8');
    expect(statSync(direct).size).toBeGreaterThan(65_536);
    expect(piped.length).toBe(written.length);
    expect(piped).toBe(written);
    const doc = JSON.parse(piped) as JsonDoc;
    expect(doc.claims[0]!.resources.filter((r) => r.kind === 'AccessPoint')).toHaveLength(12);
  });
});

describe('the JSON shape', () => {
  it('is {claims: [...], errors: [...]} for one claim and for all of them', () => {
    const one = JSON.parse(render(['--output', 'json', path.join(claimsDir, exampleClaims()[0]!.file)]).stdout) as JsonDoc;
    const all = JSON.parse(render(['--output', 'json', claimsDir]).stdout) as JsonDoc;
    expect(Object.keys(one).sort()).toEqual(['claims', 'errors']);
    expect(Object.keys(all).sort()).toEqual(['claims', 'errors']);
    expect(one.claims).toHaveLength(1);
    expect(all.claims.map((c) => c.claim.name).sort()).toEqual(
      exampleClaims()
        .map((c) => c.claim.metadata.name)
        .sort(),
    );
    expect(Object.keys(one.claims[0]!).sort()).toEqual(Object.keys(all.claims[0]!).sort());
  });
});

describe('broken input', () => {
  const dir = scratchDir();
  const broken = writeClaimFile(dir, 'broken.yaml', 'apiVersion: platform.example.org/v1alpha1\nkind: XSecureBucketClaim\nmetadata: [\n');
  const good = path.join(claimsDir, exampleClaims()[0]!.file);

  it('a file that does not parse is named, the other claims still render, exit 1', () => {
    const run = render(['--output', 'json', broken, good]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${broken}: not valid YAML`);
    const doc = JSON.parse(run.stdout) as JsonDoc;
    expect(doc.claims.map((c) => c.claim.file)).toEqual([good]);
    expect(doc.errors.map((e) => e.source)).toEqual([broken]);
  });

  it('a missing file gets a clear message, exit 1', () => {
    const missing = path.join(dir, 'no-such-claim.yaml');
    const run = render([missing]);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`error: ${missing}: no such file or folder\n`);
  });

  it("--emit-xr exits 1 on an invalid claim and prints only the valid claims' XRs", () => {
    const invalid = writeClaimFile(
      dir,
      'invalid.yaml',
      [withSpec(exampleClaim('scratch'), (s) => (s['consumers'] = [{ name: 'x', serviceAccount: 'x', access: 'Admin', prefixes: ['x/'] }]))].map((c) => ({
        ...c,
        metadata: { ...c.metadata, name: 'invalid' },
      })),
    );
    const run = render(['--emit-xr', invalid, good]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/invalid: spec\.consumers\[0\]\.access: 'Admin' is not one of/);
    const xrs = loadAll(run.stdout) as Array<{ kind: string; metadata: { labels: Record<string, string> } }>;
    expect(xrs.map((x) => [x.kind, x.metadata.labels['crossplane.io/claim-name']])).toEqual([['XSecureBucket', exampleClaims()[0]!.claim.metadata.name]]);
  });
});

describe('a claim without consumers', () => {
  it('renders, with a Warning result for the claim that only break-glass can reach the bucket', () => {
    const dir = scratchDir();
    const file = writeClaimFile(dir, 'empty.yaml', [withSpec(exampleClaim('scratch'), (s) => (s['consumers'] = []))]);
    const run = render(['--output', 'json', file]);
    expect(run.status).toBe(0);
    const [claim] = (JSON.parse(run.stdout) as JsonDoc).claims;
    const warnings = claim!.results.filter((r) => r.severity === 'Warning');
    expect(warnings.map((w) => w.reason)).toEqual(['NoConsumers']);
    expect(warnings[0]!.message).toMatch(/only the platform's break-glass principals/);
    expect(claim!.resources.some((r) => r.kind === 'Role')).toBe(false);
  });
});
