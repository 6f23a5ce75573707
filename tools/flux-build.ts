// What Flux applies to a cluster, computed from a tree on disk (a git revision written to a temp
// folder): from clusters/<cluster>/flux-system/gotk-sync.yaml through every Flux Kustomization it
// applies, each built from its own GitRepository's view of the repo, with postBuild substitution
// and targetNamespace. Anything Flux would do that this does not model is an error, never skipped:
// the access gate (tools/access-diff.ts) must not judge a guess.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { dump, load, loadAll } from 'js-yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export const FLUX_KUSTOMIZATION_GROUP = 'kustomize.toolkit.fluxcd.io';
export const FLUX_SOURCE_GROUP = 'source.toolkit.fluxcd.io';
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '');
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const within = (root: string, p: string): boolean => p === root || p.startsWith(root + path.sep);

/**
 * The one place a kustomization is built. `kubectl kustomize` embeds kustomize; KUSTOMIZE_BIN
 * names a real `kustomize` binary instead. LoadRestrictionsNone because Flux builds with it (files
 * outside the folder but inside the source are allowed); checkReachable() keeps the build inside it.
 */
export function buildKustomization(dir: string): string {
  const bin = process.env['KUSTOMIZE_BIN'];
  const [cmd, args] = bin
    ? [bin, ['build', '--load-restrictor=LoadRestrictionsNone', dir]]
    : ['kubectl', ['kustomize', '--load-restrictor=LoadRestrictionsNone', dir]];
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${cmd} is not installed: the access gate builds kustomizations with it`);
    throw new Error((e.stderr || e.message).trim());
  }
}

export function parseObjects(text: string, where: string): K8sObject[] {
  return loadAll(text, { filename: where }).filter((d): d is K8sObject => isObject(d));
}

/** Flux postBuild substitution: `${var}`, `${var:=default}`, `${var:-default}`; `$${var}` escapes. */
export function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/(\$?)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[-=]([^}]*))?\}/g, (match, escape: string, name: string, fallback?: string) => {
    if (escape === '$') return match.slice(1);
    const value = vars[name] ?? fallback;
    // Flux substitutes an empty string; an error here makes the author say what they mean.
    if (value === undefined) throw new Error(`postBuild variable \${${name}} has no value`);
    return value;
  });
}

/**
 * Symlinks are followed by kustomize, but Flux's source holds only the repository: one that
 * leaves `root` (absolute, or `..` past it, or through another link) is refused.
 */
export function checkSymlinks(root: string, label: string): string[] {
  const errors: string[] = [];
  const realRoot = realpathSync(root);
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) {
        const target = readlinkSync(full);
        let resolved = path.resolve(dir, target);
        try {
          resolved = realpathSync(full);
        } catch {
          // dangling: judged by where it points; kustomize fails on it if it is used
        }
        if (path.isAbsolute(target) || !within(realRoot, resolved)) {
          errors.push(`${label}: symlink ${path.relative(root, full)} -> ${target} leaves the repository (Flux's source does not have it)`);
        }
      } else if (entry === '.sourceignore') {
        // Flux drops what it lists from the source; the gate does not model that, so it refuses.
        errors.push(`${label}: ${path.relative(root, full)}: .sourceignore is not modelled by the access gate`);
      } else if (st.isDirectory() && entry !== '.git') walk(full);
    }
  };
  walk(root);
  return errors;
}

/** Paths a kustomization file names (field -> values), `key=path` forms reduced to the path. */
function pathsIn(k: Record<string, unknown>): Array<{ field: string; value: string; folder: boolean }> {
  const out: Array<{ field: string; value: string; folder: boolean }> = [];
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  for (const field of ['resources', 'bases', 'components']) for (const value of strings(k[field])) out.push({ field, value, folder: true });
  for (const field of ['crds', 'configurations', 'generators', 'transformers', 'validators'])
    for (const value of strings(k[field])) out.push({ field, value, folder: true });
  for (const value of strings(k['patchesStrategicMerge'])) if (!value.includes('\n')) out.push({ field: 'patchesStrategicMerge', value, folder: false });
  for (const field of ['patches', 'patchesJson6902', 'replacements']) {
    for (const p of Array.isArray(k[field]) ? (k[field] as unknown[]) : [])
      if (isObject(p) && typeof p['path'] === 'string') out.push({ field, value: p['path'], folder: false });
  }
  if (isObject(k['openapi']) && typeof k['openapi']['path'] === 'string') out.push({ field: 'openapi', value: k['openapi']['path'], folder: false });
  for (const field of ['configMapGenerator', 'secretGenerator']) {
    for (const g of Array.isArray(k[field]) ? (k[field] as unknown[]) : []) {
      if (!isObject(g)) continue;
      for (const f of [...strings(g['files']), ...strings(g['envs']), ...(typeof g['env'] === 'string' ? [g['env']] : [])])
        out.push({ field, value: f.includes('=') ? f.slice(f.indexOf('=') + 1) : f, folder: false });
    }
  }
  if (k['helmCharts'] !== undefined || k['helmChartInflationGenerator'] !== undefined) out.push({ field: 'helmCharts', value: '(helm)', folder: false });
  return out;
}

/**
 * Every path the kustomization in `dir` reaches (through folders it includes) stays inside `root`,
 * and none is remote: Flux would not find it in its source, so the gate cannot judge it.
 */
export function checkReachable(root: string, dir: string, label: string): string[] {
  const errors: string[] = [];
  const realRoot = realpathSync(root);
  const seen = new Set<string>();
  const rel = (p: string) => path.relative(root, p) || '.';
  const visit = (folder: string): void => {
    if (seen.has(folder)) return;
    seen.add(folder);
    const file = KUSTOMIZATION_FILES.map((f) => path.join(folder, f)).find((f) => existsSync(f));
    if (file === undefined) return; // kustomize reports a folder without one
    let k: unknown;
    try {
      k = load(readFileSync(file, 'utf8'));
    } catch {
      return; // kustomize reports the parse error
    }
    if (!isObject(k)) return;
    for (const { field, value, folder: maybeFolder } of pathsIn(k)) {
      if (field === 'helmCharts') {
        errors.push(`${label}: ${rel(file)} inflates Helm charts, which the gate cannot diff`);
        continue;
      }
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^(git@|github\.com\/|gitlab\.com\/|bitbucket\.org\/)/.test(value) || value.includes('?ref=')) {
        errors.push(`${label}: ${rel(file)} ${field} '${value}' is remote: the gate diffs only what is in the repository`);
        continue;
      }
      const target = path.resolve(folder, value);
      let real = target;
      try {
        real = realpathSync(target);
      } catch {
        // missing: kustomize fails the build and names it
      }
      if (path.isAbsolute(value) || !within(root, target) || !within(realRoot, real)) {
        errors.push(`${label}: ${rel(file)} ${field} '${value}' is outside what Flux's source holds (${rel(root) === '.' ? 'the repository' : rel(root)})`);
        continue;
      }
      if (maybeFolder && existsSync(target) && statSync(target).isDirectory()) visit(target);
    }
  };
  visit(dir);
  return errors;
}

/** One Flux Kustomization as the cluster would reconcile it. */
export interface FluxStage {
  /** `<namespace>/<name>` of the Flux Kustomization. */
  id: string;
  /** Repo-relative folder it builds. */
  path: string;
  objects: K8sObject[];
}

/** A revision of the repo on disk, and the same with only clusters/ (a source with that ignore rule). */
export interface Revision {
  label: string;
  full: string;
  clustersOnly: string;
}

export function clustersOnlyCopy(full: string, dest: string): void {
  if (existsSync(path.join(full, 'clusters'))) cpSync(path.join(full, 'clusters'), path.join(dest, 'clusters'), { recursive: true, verbatimSymlinks: true });
}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'CompositeResourceDefinition',
  'Composition',
  'StorageClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

const normalizeUrl = (url: unknown): string =>
  String(url)
    .replace(/^[a-z+]+:\/\//, '')
    .replace(/^[^@/]+@/, '')
    .replace(/:(?=[^/])/, '/')
    .replace(/\.git$/, '')
    .replace(/\/$/, '');

/** `ignore` rules the gate models: none (the whole repo) or exactly "only clusters/". */
function sourceTree(repo: K8sObject, root: K8sObject, rev: Revision): string {
  const spec = isObject(repo['spec']) ? repo['spec'] : {};
  const rootSpec = isObject(root['spec']) ? root['spec'] : {};
  const id = `GitRepository ${repo.metadata.namespace ?? ''}/${repo.metadata.name}`;
  if (normalizeUrl(spec['url']) !== normalizeUrl(rootSpec['url']))
    throw new Error(`${id} points at ${String(spec['url'])}, not this repository: the gate cannot diff it`);
  if (JSON.stringify(spec['ref'] ?? {}) !== JSON.stringify(rootSpec['ref'] ?? {}))
    throw new Error(`${id} follows another ref than flux-system: the gate cannot diff it`);
  if (spec['include'] !== undefined) throw new Error(`${id}: spec.include is not modelled by the gate`);
  const ignore =
    typeof spec['ignore'] === 'string'
      ? spec['ignore']
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '' && !l.startsWith('#'))
      : [];
  if (ignore.length === 0) return rev.full;
  if (ignore.join('\n') === '/*\n!/clusters/') return rev.clustersOnly;
  throw new Error(`${id}: ignore rules ${JSON.stringify(ignore)} are not modelled by the gate (only none, or "/*" + "!/clusters/")`);
}

/**
 * Every Flux Kustomization of `cluster` in `rev`, parents first, each with its built objects.
 * A stage that fails is in `errors` (its children are then unknown), the rest still built.
 */
export function reconcileCluster(cluster: string, rev: Revision): { stages: FluxStage[]; errors: string[] } {
  const errors: string[] = [];
  const syncFile = path.join(rev.full, 'clusters', cluster, 'flux-system', 'gotk-sync.yaml');
  const sync = parseObjects(readFileSync(syncFile, 'utf8'), syncFile);
  const isFlux = (o: K8sObject, group: string, kind: string) => o.kind === kind && groupOf(o.apiVersion) === group;
  const root = sync.find((o) => isFlux(o, FLUX_KUSTOMIZATION_GROUP, 'Kustomization') && o.metadata.name === 'flux-system');
  const rootRepo = sync.find((o) => isFlux(o, FLUX_SOURCE_GROUP, 'GitRepository') && o.metadata.name === 'flux-system');
  if (root === undefined || rootRepo === undefined)
    return { stages: [], errors: [`${rev.label}: clusters/${cluster}/flux-system/gotk-sync.yaml has no Kustomization and GitRepository flux-system`] };
  const repos = new Map<string, K8sObject>([[`${rootRepo.metadata.namespace ?? ''}/flux-system`, rootRepo]]);
  const objectsSoFar: K8sObject[] = [];
  const stages: FluxStage[] = [];
  const seen = new Set<string>();
  const queue: K8sObject[] = [root];
  while (queue.length > 0) {
    const k = queue.shift() as K8sObject;
    const ns = k.metadata.namespace ?? '';
    const id = `${ns}/${k.metadata.name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const spec = (isObject(k['spec']) ? k['spec'] : {}) as Record<string, unknown>;
    const where = `${rev.label}: Kustomization ${id} (${cluster})`;
    try {
      for (const field of ['patches', 'images', 'components', 'namePrefix', 'nameSuffix']) {
        const v = spec[field];
        if (v !== undefined && !(Array.isArray(v) && v.length === 0) && v !== '') throw new Error(`spec.${field} is not modelled by the gate`);
      }
      const ref = isObject(spec['sourceRef']) ? spec['sourceRef'] : {};
      if (ref['kind'] !== 'GitRepository') throw new Error(`sourceRef kind ${String(ref['kind'])} is not modelled by the gate`);
      const repo = repos.get(`${typeof ref['namespace'] === 'string' ? ref['namespace'] : ns}/${String(ref['name'])}`);
      if (repo === undefined) throw new Error(`its GitRepository ${String(ref['name'])} is not applied by this cluster`);
      const tree = sourceTree(repo, rootRepo, rev);
      const rel = path.posix.normalize(String(spec['path'] ?? '.').replace(/^\.\//, ''));
      const dir = path.resolve(tree, rel);
      if (!within(tree, dir)) throw new Error(`path ${String(spec['path'])} leaves its source`);
      if (!existsSync(dir)) throw new Error(`path ${String(spec['path'])} does not exist`);
      const reach = checkReachable(tree, dir, `${rev.label}: ${rel}`);
      if (reach.length > 0) throw new Error(reach.join('\n'));
      let objects: K8sObject[];
      try {
        objects = parseObjects(buildKustomization(dir), rel);
      } catch (err) {
        throw new Error(`building ${rel} failed:\n${(err as Error).message.split(tree + path.sep).join('')}`);
      }
      const postBuild = isObject(spec['postBuild']) ? spec['postBuild'] : undefined;
      if (postBuild !== undefined) {
        const vars: Record<string, string> = {};
        for (const from of Array.isArray(postBuild['substituteFrom']) ? (postBuild['substituteFrom'] as unknown[]) : []) {
          if (!isObject(from)) continue;
          const found = objectsSoFar.find((o) => o.kind === from['kind'] && o.metadata.name === from['name'] && (o.metadata.namespace ?? '') === ns);
          if (found === undefined) {
            if (from['optional'] === true) continue;
            throw new Error(`postBuild.substituteFrom ${String(from['kind'])} ${String(from['name'])} is not applied before it`);
          }
          const data = (isObject(found['data']) ? found['data'] : {}) as Record<string, string>;
          for (const [key, value] of Object.entries(data))
            vars[key] = found.kind === 'Secret' ? Buffer.from(String(value), 'base64').toString('utf8') : String(value);
        }
        Object.assign(vars, isObject(postBuild['substitute']) ? postBuild['substitute'] : {});
        objects = objects.map((o) =>
          o.metadata.annotations?.['kustomize.toolkit.fluxcd.io/substitute'] === 'disabled'
            ? o
            : (load(substitute(dump(o, { lineWidth: -1 }), vars)) as K8sObject),
        );
      }
      const target = spec['targetNamespace'];
      if (typeof target === 'string' && target !== '') {
        for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata = { ...o.metadata, namespace: target };
      }
      stages.push({ id, path: rel, objects });
      objectsSoFar.push(...objects);
      for (const o of objects) {
        if (isFlux(o, FLUX_SOURCE_GROUP, 'GitRepository')) repos.set(`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o);
      }
      for (const o of objects) if (isFlux(o, FLUX_KUSTOMIZATION_GROUP, 'Kustomization')) queue.push(o);
    } catch (err) {
      errors.push(`${where}: ${(err as Error).message}`);
    }
  }
  return { stages, errors };
}

/** Clusters of a revision: folders of clusters/ with flux-system/gotk-sync.yaml. */
export function clusterNames(full: string): string[] {
  const dir = path.join(full, 'clusters');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((c) => existsSync(path.join(dir, c, 'flux-system', 'gotk-sync.yaml')))
    .sort();
}
