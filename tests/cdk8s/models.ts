// The example claims as the cdk8s app reads them, in the platform variants the tests cover.
import path from 'node:path';
import type { IdentityMode } from '../../functions/secure-bucket/src/core/index.js';
import { loadModels, type Model } from '../../cdk8s/synth.js';
import { repoRoot } from '../lib/repo.js';

export interface Variant {
  mode: IdentityMode;
  /** Namespaces put in the mesh (callers: consumer -> principals). */
  mesh?: Record<string, Record<string, string[]>>;
}

export const VARIANTS: Array<Variant & { name: string }> = [
  { name: 'IRSA', mode: 'IRSA' },
  { name: 'Pod Identity', mode: 'PodIdentity' },
  { name: 'IRSA in the mesh', mode: 'IRSA', mesh: { 'team-sales': { 'sales-api': ['cluster.local/ns/team-web/sa/frontend'] }, 'team-inventory': {} } },
  { name: 'Pod Identity in the mesh', mode: 'PodIdentity', mesh: { 'team-sales': {}, 'team-inventory': {} } },
];

const examplesDir = path.join(repoRoot, 'compositions', 'examples');

export function exampleModels(variant: Variant = { mode: 'IRSA' }): Model[] {
  return loadModels({ repoRoot })
    .filter((m) => m.claim.file.startsWith(examplesDir + path.sep))
    .map((m) => {
      const env = structuredClone(m.env);
      env.identity.mode = variant.mode;
      const network = structuredClone(m.network);
      network.mesh.namespaces = Object.fromEntries(Object.entries(variant.mesh ?? {}).map(([ns, callers]) => [ns, { callers }]));
      return { ...m, env, network };
    });
}
