// Builds the repo's kustomizations with `kubectl kustomize` and walks a cluster the way Flux
// does: from clusters/<cluster> (the flux-system Kustomization's path), through every Flux
// Kustomization it applies, with postBuild substitutions, down to the tenants' folders.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { loadYamlDocuments, relativeToRepo, repoRoot } from './repo.js';

// What Flux builds, one home for the object shape, the parsing and postBuild substitution: the access gate's.
export type { K8sObject } from '../../tools/flux-build.js';
import { parseObjects, substitute, type K8sObject } from '../../tools/flux-build.js';
export { parseObjects, substitute };

export const KUSTOMIZATION_FILE = 'kustomization.yaml';
export const FLUX_KUSTOMIZATION_API = 'kustomize.toolkit.fluxcd.io';

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '';
}

/** `<kind>/<namespace>/<name>` (namespace empty for cluster-scoped objects). */
export function objectKey(obj: K8sObject): string {
  return `${groupOf(obj.apiVersion)}/${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export function isFluxKustomization(obj: K8sObject): boolean {
  return obj.kind === 'Kustomization' && groupOf(obj.apiVersion) === FLUX_KUSTOMIZATION_API;
}

let kubectlChecked = false;

/** Fails with a message that says what to install, never skips. */
export function requireKubectl(): void {
  if (kubectlChecked) return;
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'pipe' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? 'kubectl is not installed: the GitOps tests build every kustomization with `kubectl kustomize` (install kubectl >= 1.27)'
        : `kubectl does not run: ${(error as Error).message}`,
    );
  }
  kubectlChecked = true;
}

const builds = new Map<string, string>();

/** `kubectl kustomize <dir>` output (cached per directory); the error names the directory. */
export function kustomizeText(dir: string): string {
  const absolute = path.resolve(repoRoot, dir);
  const cached = builds.get(absolute);
  if (cached !== undefined) return cached;
  requireKubectl();
  let text: string;
  try {
    text = execFileSync('kubectl', ['kustomize', absolute], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new Error(`kubectl kustomize ${relativeToRepo(absolute)} failed:\n${stderr}`);
  }
  builds.set(absolute, text);
  return text;
}

export function kustomizeBuild(dir: string): K8sObject[] {
  return parseObjects(kustomizeText(dir), relativeToRepo(path.resolve(repoRoot, dir)));
}

export interface KustomizationFile {
  dir: string;
  kind: 'Kustomization' | 'Component';
  content: Record<string, unknown>;
}

/** Every directory holding a kustomization.yaml under root (repo-relative dirs, sorted). */
export function findKustomizations(root: string): KustomizationFile[] {
  const found: KustomizationFile[] = [];
  const walk = (dir: string): void => {
    const file = path.join(dir, KUSTOMIZATION_FILE);
    if (existsSync(file)) {
      const content = (loadAll(readFileSync(file, 'utf8'))[0] ?? {}) as Record<string, unknown>;
      found.push({ dir: relativeToRepo(dir), kind: content['kind'] === 'Component' ? 'Component' : 'Kustomization', content });
    }
    for (const entry of readdirSync(dir)) {
      if (statSync(path.join(dir, entry)).isDirectory()) walk(path.join(dir, entry));
    }
  };
  walk(path.resolve(repoRoot, root));
  return found.sort((a, b) => a.dir.localeCompare(b.dir));
}

/** The clusters: folders of clusters/ with a flux-system/ folder (bootstrap's layout). */
export function clusterNames(): string[] {
  const root = path.join(repoRoot, 'clusters');
  return readdirSync(root)
    .filter((name) => existsSync(path.join(root, name, 'flux-system', KUSTOMIZATION_FILE)))
    .sort();
}

/** One Flux Kustomization as the cluster would reconcile it. */
export interface FluxStage {
  /** `<namespace>/<name>` */
  id: string;
  kustomization: K8sObject;
  /** The stage whose output contains this Kustomization (undefined for flux-system). */
  parent: string | undefined;
  /** Repo-relative path it builds. */
  path: string;
  /** Its build output after postBuild substitution. */
  objects: K8sObject[];
}

export function stageId(obj: K8sObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

interface FluxKustomizationSpec {
  path?: string;
  postBuild?: { substitute?: Record<string, string> };
}

export function fluxSpec(obj: K8sObject): FluxKustomizationSpec & Record<string, unknown> {
  return (obj['spec'] ?? {}) as FluxKustomizationSpec & Record<string, unknown>;
}

/** Repo-relative form of a Flux path (`./clusters/x` -> `clusters/x`). */
export function repoPath(fluxPath: string): string {
  return path.posix.normalize(fluxPath.replace(/^\.\//, ''));
}

const trees = new Map<string, FluxStage[]>();

/**
 * Every Flux Kustomization of a cluster, parents before children, each with its built output.
 * Starts from the flux-system Kustomization in clusters/<cluster>/flux-system/gotk-sync.yaml.
 */
export function reconcileCluster(cluster: string): FluxStage[] {
  const cached = trees.get(cluster);
  if (cached !== undefined) return cached;
  const sync = parseObjects(readFileSync(path.join(repoRoot, 'clusters', cluster, 'flux-system', 'gotk-sync.yaml'), 'utf8'), 'gotk-sync.yaml');
  const root = sync.find((obj) => isFluxKustomization(obj) && obj.metadata.name === 'flux-system');
  if (root === undefined) throw new Error(`clusters/${cluster}/flux-system/gotk-sync.yaml has no Kustomization flux-system`);

  const stages: FluxStage[] = [];
  const seen = new Set<string>();
  const queue: Array<{ kustomization: K8sObject; parent: string | undefined }> = [{ kustomization: root, parent: undefined }];
  while (queue.length > 0) {
    const { kustomization, parent } = queue.shift() as { kustomization: K8sObject; parent: string | undefined };
    const id = stageId(kustomization);
    if (seen.has(id)) continue;
    seen.add(id);
    const spec = fluxSpec(kustomization);
    const dir = repoPath(spec.path ?? '.');
    if (!existsSync(path.join(repoRoot, dir))) throw new Error(`Kustomization ${id}: path ${spec.path ?? '(none)'} does not exist`);
    const text = substitute(kustomizeText(dir), spec.postBuild?.substitute ?? {});
    const objects = parseObjects(text, dir);
    stages.push({ id, kustomization, parent, path: dir, objects });
    for (const child of objects.filter(isFluxKustomization)) queue.push({ kustomization: child, parent: id });
  }
  trees.set(cluster, stages);
  return stages;
}

/** Every object a cluster's Flux applies, with the stage that applies it. */
export function appliedObjects(cluster: string): Array<{ stage: FluxStage; object: K8sObject }> {
  return reconcileCluster(cluster).flatMap((stage) => stage.objects.map((object) => ({ stage, object })));
}

/**
 * The tenants the platform onboards on a cluster: the base/tenants/<team> folders that cluster's
 * tenants/kustomization.yaml lists (clusters/README.md, "Add a tenant"; `make tenant` writes them),
 * so a new tenant, staging-only or not, is tested without editing any test.
 */
export function tenantNames(cluster: string): string[] {
  const dir = path.join(repoRoot, 'clusters', cluster, 'tenants');
  const k = loadYamlDocuments(path.join(dir, KUSTOMIZATION_FILE))[0] as { resources?: string[] };
  return (k.resources ?? [])
    .filter((r) => /^\.\.\/\.\.\/base\/tenants\/[^/]+$/.test(r) && existsSync(path.join(dir, r, KUSTOMIZATION_FILE)))
    .map((r) => path.basename(r))
    .sort();
}
