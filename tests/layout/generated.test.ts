// What is generated from one source is committed as generated (make xrds writes each): the claim
// API's types, field table and README table from the schema; the activation policy's and tenant
// role's kind lists from the catalog of managed kinds. And the catalog matches what renders.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { generatedClaimApi } from '../../compositions/generate-claim-api.js';
import { generatedKindLists } from '../../compositions/generate-kind-lists.js';
import { MANAGED_KINDS } from '../../functions/secure-bucket/src/core/index.js';
import { repoRoot } from '../lib/repo.js';

type Json = Record<string, unknown>;

describe('generated files are current (make xrds)', () => {
  it.each([...generatedClaimApi(repoRoot), ...generatedKindLists(repoRoot)].map((x) => [x.file, x] as const))('%s', (_file, x) => {
    expect(x.current === x.generated ? '' : `${x.file} is stale: run make xrds`).toBe('');
  });
});

describe('the catalog of managed kinds matches every golden render', () => {
  const resources = ['audit-archive.yaml', 'sales-events.yaml', 'scratch.yaml'].flatMap((f) =>
    (loadAll(readFileSync(path.join(repoRoot, 'tests/golden', f), 'utf8')) as unknown[]).filter((d): d is Json => d !== null && typeof d === 'object'),
  );

  it('each rendered kind is in the catalog, at the catalog version, Orphan exactly when it outlives the request', () => {
    const wrong = resources
      .filter((r) => typeof r['kind'] === 'string' && String(r['apiVersion']).includes('.aws.upbound.io/'))
      .flatMap((r) => {
        const entry = MANAGED_KINDS.find((k) => k.kind === r['kind']);
        if (entry === undefined) return [`${String(r['kind'])}: not in the catalog`];
        const problems: string[] = [];
        if (r['apiVersion'] !== `${entry.group}.aws.upbound.io/${entry.versions.Cluster}`) problems.push(`${entry.kind}: rendered ${String(r['apiVersion'])}`);
        const orphan = (r['spec'] as Json)['deletionPolicy'] === 'Orphan';
        if (orphan !== entry.outlivesRequest)
          problems.push(
            `${entry.kind}: deletionPolicy ${String((r['spec'] as Json)['deletionPolicy'])}, catalog outlivesRequest ${String(entry.outlivesRequest)}`,
          );
        return problems;
      });
    expect(resources.length).toBeGreaterThan(20);
    expect([...new Set(wrong)]).toEqual([]);
  });
});
