// What Flux would apply to a cluster, stage by stage, for `make cluster-up` (upstream/cluster.sh):
// the repo's own walk of clusters/<cluster> (tests/lib/kustomize.ts) written as one YAML file per
// Flux Kustomization, parents before children, with the identity Flux applies it as
// (spec.serviceAccountName, impersonated) and its targetNamespace applied. Two local changes, both
// printed: Function packages point at the digest-pinned local packages (nothing is pulled), and
// Provider packages are left out (a TypeScript stand-in plays provider-aws; its CRDs are installed directly).
// usage: node dist/tools/cluster/flux-stages.js <cluster> <out-dir> <packages.json>
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dump } from 'js-yaml';
import { fluxSpec, reconcileCluster, type K8sObject } from '../../tests/lib/kustomize.js';

export interface StagePlan {
  id: string;
  file: string;
  /** The user Flux applies as: its ServiceAccount when the Kustomization names one (admin otherwise). */
  as: string | undefined;
  /** How many objects the stage applies. */
  objects: number;
}

/** Function name -> digest reference in the local xpkg cache (upstream/cluster.sh writes it). */
type LocalPackages = Record<string, string>;

function localise(objects: K8sObject[], packages: LocalPackages, notes: string[]): K8sObject[] {
  const out: K8sObject[] = [];
  for (const obj of objects) {
    const group = obj.apiVersion.split('/')[0];
    if (group === 'pkg.crossplane.io' && obj.kind === 'Provider') {
      notes.push(`left out Provider ${obj.metadata.name}: the provider stand-in reconciles its managed resources`);
      continue;
    }
    if (group === 'pkg.crossplane.io' && obj.kind === 'Function') {
      const local = packages[obj.metadata.name];
      if (local === undefined) throw new Error(`Function ${obj.metadata.name} has no local package (packages.json)`);
      const spec = (obj['spec'] ?? {}) as Record<string, unknown>;
      notes.push(`Function ${obj.metadata.name}: ${String(spec['package'])} -> ${local} (packagePullPolicy Never)`);
      out.push({ ...obj, spec: { ...spec, package: local, packagePullPolicy: 'Never' } });
      continue;
    }
    out.push(obj);
  }
  return out;
}

// kubectl applies in file order; Flux applies namespaces, CRDs and RBAC before what depends on them.
const ORDER: Record<string, number> = {
  Namespace: 0,
  CustomResourceDefinition: 0,
  ServiceAccount: 1,
  ClusterRole: 1,
  Role: 1,
  ConfigMap: 1,
  ClusterRoleBinding: 2,
  RoleBinding: 2,
  ValidatingAdmissionPolicy: 2,
  ValidatingAdmissionPolicyBinding: 3,
};
const rank = (o: K8sObject): number => ORDER[o.kind] ?? 4;

export function writeStages(cluster: string, outDir: string, packages: LocalPackages): { plan: StagePlan[]; notes: string[] } {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const notes: string[] = [];
  const plan: StagePlan[] = [];
  reconcileCluster(cluster).forEach((stage, index) => {
    const spec = fluxSpec(stage.kustomization);
    const sa = spec['serviceAccountName'];
    const ns = stage.kustomization.metadata.namespace ?? 'flux-system';
    const target = spec['targetNamespace'];
    let objects = localise(stage.objects, packages, notes).sort((a, b) => rank(a) - rank(b));
    // targetNamespace: Flux sets it on every namespaced object it applies (cluster-scoped ones are refused for tenants anyway).
    if (typeof target === 'string') objects = objects.map((o) => (o.kind === 'Namespace' ? o : { ...o, metadata: { ...o.metadata, namespace: target } }));
    const file = path.join(outDir, `${String(index).padStart(2, '0')}-${stage.id.replace('/', '-')}.yaml`);
    writeFileSync(file, objects.map((o) => dump(o, { noRefs: true, lineWidth: -1 })).join('---\n'));
    plan.push({ id: stage.id, file, as: typeof sa === 'string' ? `system:serviceaccount:${ns}:${sa}` : undefined, objects: objects.length });
  });
  writeFileSync(path.join(outDir, 'plan.json'), JSON.stringify(plan, null, 2) + '\n');
  return { plan, notes };
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const [cluster, outDir, packagesFile] = process.argv.slice(2);
  if (cluster === undefined || outDir === undefined || packagesFile === undefined) {
    console.error('usage: flux-stages <cluster> <out-dir> <packages.json>');
    process.exit(2);
  }
  const { plan, notes } = writeStages(cluster, path.resolve(outDir), JSON.parse(readFileSync(packagesFile, 'utf8')) as LocalPackages);
  for (const note of notes) console.error(`note: ${note}`);
  for (const stage of plan) console.log(`${stage.file}\t${stage.as ?? '-'}\t${stage.id}`);
}
