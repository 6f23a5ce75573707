// Where a claim's platform environment comes from. One rule per place a claim can live:
//   compositions/examples/**          -> compositions/examples/environment.yaml
//   clusters/<cluster>/**             -> the EnvironmentConfig of that cluster, after its kustomize
//                                        patches: `kubectl kustomize` of every folder under
//                                        clusters/<cluster>/ whose kustomization mentions it.
// The EnvironmentConfig's name is the one the Composition's function input selects.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { DEFAULT_ENVIRONMENT_CONFIG as ENVIRONMENT_CONFIG_NAME, isObject, type Json } from '../functions/secure-bucket/src/core/index.js';

export { DEFAULT_ENVIRONMENT_CONFIG as ENVIRONMENT_CONFIG_NAME } from '../functions/secure-bucket/src/core/index.js';
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export interface EnvironmentSource {
  /** Repo-relative description of where the data came from (for headers and errors). */
  from: string;
  data: unknown;
}

function environmentConfigs(docs: unknown[]): Json[] {
  return docs.filter(
    (d): d is Json => isObject(d) && d['kind'] === 'EnvironmentConfig' && isObject(d['metadata']) && d['metadata']['name'] === ENVIRONMENT_CONFIG_NAME,
  );
}

function fromFile(file: string, repoRoot: string): EnvironmentSource {
  const found = environmentConfigs(loadAll(readFileSync(file, 'utf8')));
  const rel = path.relative(repoRoot, file);
  if (found.length !== 1) throw new Error(`${rel}: expected one EnvironmentConfig '${ENVIRONMENT_CONFIG_NAME}', found ${found.length}`);
  return { from: rel, data: found[0]?.['data'] };
}

function kustomizationDirs(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    const entries = readdirSync(d, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && KUSTOMIZATION_FILES.includes(e.name))) out.push(d);
    for (const e of entries) if (e.isDirectory() && e.name !== 'generated' && !e.name.startsWith('.')) walk(path.join(d, e.name));
  };
  walk(dir);
  return out.sort();
}

/** A folder's own files (not sub-folders) mention the EnvironmentConfig: it builds or patches it. */
function mentionsEnvironment(dir: string): boolean {
  return readdirSync(dir, { withFileTypes: true }).some(
    (e) =>
      e.isFile() && /\.ya?ml$|^Kustomization$/.test(e.name) && /EnvironmentConfig|secure-bucket-platform/.test(readFileSync(path.join(dir, e.name), 'utf8')),
  );
}

function fromCluster(clusterDir: string, repoRoot: string): EnvironmentSource {
  const results: EnvironmentSource[] = [];
  for (const dir of kustomizationDirs(clusterDir).filter(mentionsEnvironment)) {
    let out: string;
    try {
      out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw new Error('kubectl is needed to build the cluster EnvironmentConfig (`kubectl kustomize`): install kubectl');
      throw new Error(`kubectl kustomize ${path.relative(repoRoot, dir)} failed: ${e.stderr ?? e.message}`);
    }
    for (const config of environmentConfigs(loadAll(out))) results.push({ from: `kubectl kustomize ${path.relative(repoRoot, dir)}`, data: config['data'] });
  }
  const distinct = new Map(results.map((r) => [JSON.stringify(r.data), r]));
  const rel = path.relative(repoRoot, clusterDir);
  if (distinct.size === 0) throw new Error(`${rel}: no kustomization builds the EnvironmentConfig '${ENVIRONMENT_CONFIG_NAME}'`);
  if (distinct.size > 1) {
    throw new Error(`${rel}: kustomizations disagree on EnvironmentConfig '${ENVIRONMENT_CONFIG_NAME}': ${results.map((r) => r.from).join(', ')}`);
  }
  return [...distinct.values()][0] as EnvironmentSource;
}

/** Resolves environments, building each cluster's once. */
export class EnvironmentResolver {
  private readonly cache = new Map<string, EnvironmentSource>();

  constructor(private readonly repoRoot: string) {}

  /** The folder whose environment applies to a claim file: the cache key, and the cluster in messages. */
  scopeOf(claimFile: string): string {
    const rel = path.relative(this.repoRoot, claimFile).split(path.sep);
    if (rel[0] === 'clusters' && rel.length > 2) return path.join(this.repoRoot, 'clusters', rel[1] as string);
    if (rel[0] === 'compositions' && rel[1] === 'examples') return path.join(this.repoRoot, 'compositions', 'examples');
    throw new Error(`${rel.join('/')}: claims live under clusters/<cluster>/ or compositions/examples/; no environment applies here`);
  }

  forClaim(claimFile: string): EnvironmentSource {
    const scope = this.scopeOf(claimFile);
    let source = this.cache.get(scope);
    if (!source) {
      const exampleFile = path.join(scope, 'environment.yaml');
      source =
        path.basename(path.dirname(scope)) === 'clusters' || !existsSync(exampleFile)
          ? fromCluster(scope, this.repoRoot)
          : fromFile(exampleFile, this.repoRoot);
      this.cache.set(scope, source);
    }
    return source;
  }
}
