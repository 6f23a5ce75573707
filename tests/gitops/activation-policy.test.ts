// Crossplane v2 serves a provider kind only when a ManagedResourceActivationPolicy activates it:
// every kind the function renders must be in the platform's one activation list, or claims
// would fail on a real cluster with "no matches for kind". The v2 XSecureBuckets compose the
// same kinds namespaced (*.aws.m.upbound.io): the list activates both.
import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import {
  desiredResources,
  environmentConfig,
  exampleClaims,
  podIdentityDedicatedEndpoint,
  renderPasses,
  withSpec,
  type Json,
} from '../lib/function-fixtures.js';
import { loadYamlDocuments, schemasDir } from '../lib/repo.js';
import type { Claim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { namespacedXrFor } from '../../functions/secure-bucket/cli/xr/namespaced.js';

/** apiVersion group + kind -> the CRD name (<plural>.<group>) from the upstream CRD files. */
function crdNames(): Map<string, string> {
  const out = new Map<string, string>();
  for (const folder of ['provider-aws', 'provider-aws-namespaced']) {
    const dir = path.join(schemasDir, folder);
    for (const file of readdirSync(dir)) {
      const crd = loadYamlDocuments(path.join(dir, file))[0] as { metadata: { name: string }; spec: { group: string; names: { kind: string } } };
      out.set(`${crd.spec.group}/${crd.spec.names.kind}`, crd.metadata.name);
    }
  }
  return out;
}

const activated = (loadYamlDocuments('clusters/base/crossplane-packages/activation-policy.yaml')[0] as { spec: { activate: string[] } }).spec.activate;

describe('the activation policy covers everything the function renders', () => {
  const families: Array<[string, (c: Claim) => Claim, string]> = [
    ['claims (cluster-scoped kinds)', (c) => c, '.aws.upbound.io'],
    ['v2 XSecureBuckets (namespaced kinds)', namespacedXrFor, '.aws.m.upbound.io'],
  ];
  it.each(families)('for every example as %s, both platform variants, with every optional feature on', async (_family, asRequest, suffix) => {
    const names = crdNames();
    const rendered = new Set<string>();
    const everything = (s: Json) => {
      s['metrics'] = true;
      s['versioning'] = 'Enabled';
    };
    for (const env of [environmentConfig(), environmentConfig(podIdentityDedicatedEndpoint)]) {
      for (const { claim } of exampleClaims()) {
        for (const variant of [asRequest(claim), asRequest(withSpec(claim, everything))]) {
          const { converged } = await renderPasses(variant, env);
          for (const r of Object.values(desiredResources(converged))) {
            const group = String(r['apiVersion']).split('/')[0];
            const crd = names.get(`${group}/${String(r['kind'])}`);
            rendered.add(crd ?? `no CRD for ${group}/${String(r['kind'])}`);
          }
        }
      }
    }
    expect([...rendered].filter((name) => !activated.includes(name)).sort()).toEqual([]);
    expect(rendered.size).toBeGreaterThanOrEqual(12);
    expect([...rendered].filter((name) => !name.endsWith(suffix))).toEqual([]);
  });
});

describe('the activation policy covers the namespaced family of the v2 API', () => {
  const clusterScoped = activated.filter((name) => name.endsWith('.aws.upbound.io'));
  const namespaced = activated.filter((name) => name.endsWith('.aws.m.upbound.io'));
  /** Applied by the platform itself, cluster-scoped in both APIs: the permissions boundaries. */
  const platformOnly = ['policies.iam.aws.upbound.io'];

  it('activates every composed cluster-scoped kind namespaced too, and nothing else', () => {
    expect(clusterScoped.length).toBeGreaterThanOrEqual(12);
    const composed = clusterScoped.filter((name) => !platformOnly.includes(name));
    expect([...namespaced].sort()).toEqual(composed.map((name) => name.replace(/\.aws\.upbound\.io$/, '.aws.m.upbound.io')).sort());
    expect(clusterScoped.length + namespaced.length).toBe(activated.length);
  });

  it('names Namespaced CRDs of shared/schemas/provider-aws-namespaced', () => {
    const dir = path.join(schemasDir, 'provider-aws-namespaced');
    const scopes = new Map(
      readdirSync(dir).map((file) => {
        const crd = loadYamlDocuments(path.join(dir, file))[0] as { metadata: { name: string }; spec: { scope: string } };
        return [crd.metadata.name, crd.spec.scope] as const;
      }),
    );
    for (const name of namespaced) expect({ name, scope: scopes.get(name) }).toEqual({ name, scope: 'Namespaced' });
  });
});
