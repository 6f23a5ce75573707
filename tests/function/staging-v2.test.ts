// Staging runs its tenants on the v2 API: every namespaced XSecureBucket committed under
// clusters/staging renders through the function with staging's own EnvironmentConfig (the
// kustomize-built platform stage), without a Fatal, into namespaced managed resources only, each
// in the tenant's namespace.
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { findClaimDocuments } from '../../cdk8s/claims.js';
import { EnvironmentResolver } from '../../cdk8s/environment-source.js';
import { asClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { isNamespacedXrDocument } from '../../functions/secure-bucket/cli/xr/namespaced.js';
import { desiredResources, fatalOf, renderPasses, type Json } from '../lib/function-fixtures.js';
import { repoRoot } from '../lib/repo.js';

const staging = path.join(repoRoot, 'clusters', 'staging') + path.sep;
const objects = findClaimDocuments(repoRoot).filter(({ file, doc }) => file.startsWith(staging) && isNamespacedXrDocument(doc));
const resolver = new EnvironmentResolver(repoRoot);

describe('staging tenants on v2 XSecureBuckets', () => {
  it('are committed (staging has moved to the v2 API)', () => {
    expect(objects.length).toBeGreaterThan(0);
  });

  it.each(objects.map(({ file, doc }) => [path.relative(repoRoot, file), file, doc] as const))(
    '%s renders without Fatal into *.aws.m.upbound.io kinds in its namespace',
    async (_rel, file, doc) => {
      const xr = asClaim(doc, file);
      const environment = {
        apiVersion: 'apiextensions.crossplane.io/v1beta1',
        kind: 'EnvironmentConfig',
        metadata: { name: 'secure-bucket-platform' },
        data: resolver.forClaim(file).data,
      } as Json;
      const { observing, converged } = await renderPasses(xr, environment);
      expect(fatalOf(observing)).toBeUndefined();
      expect(fatalOf(converged)).toBeUndefined();
      const resources = Object.values(desiredResources(converged));
      expect(resources.length).toBeGreaterThan(10);
      const placed = new Set(
        resources.map((r) => `${String(r['apiVersion']).replace(/^[a-z0-9]+\./, '*.')} in ${String((r['metadata'] as Json)['namespace'])}`),
      );
      expect([...placed]).toEqual([`*.aws.m.upbound.io/v1beta1 in ${xr.metadata.namespace}`]);
    },
  );
});
