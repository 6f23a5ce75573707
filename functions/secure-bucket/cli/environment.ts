// The platform's EnvironmentConfig as the function would get it: the one named in the
// Composition's step input (or the default), looked up among the --environment file's objects.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { isObject, type Json } from '../src/core/index.js';
import { DEFAULT_ENVIRONMENT_CONFIG } from '../src/function.js';

export function environmentConfigName(input: Json | undefined): string {
  return typeof input?.['environmentConfigName'] === 'string' ? input['environmentConfigName'] : DEFAULT_ENVIRONMENT_CONFIG;
}

/** The EnvironmentConfig's `data`; throws naming the EnvironmentConfig when there is none. */
export function environmentData(clusterObjects: Json[], input: Json | undefined): unknown {
  const name = environmentConfigName(input);
  const env = clusterObjects.find((o) => o['kind'] === 'EnvironmentConfig' && isObject(o['metadata']) && o['metadata']['name'] === name);
  if (env === undefined) throw new Error(`no EnvironmentConfig named ${name} in the --environment file`);
  return env['data'];
}

/**
 * --cluster: the objects Flux's `platform` stage applies for clusters/<cluster> (its EnvironmentConfig
 * after the cluster's patches), built with `kubectl kustomize` as the tests and cdk8s do.
 */
export function clusterEnvironmentObjects(cluster: string, repoRoot = process.cwd()): Json[] {
  const dir = path.join(repoRoot, 'clusters', cluster, 'platform');
  if (!/^[a-z0-9-]+$/.test(cluster) || !existsSync(dir)) {
    const known = existsSync(path.join(repoRoot, 'clusters'))
      ? readdirSync(path.join(repoRoot, 'clusters')).filter((c) => existsSync(path.join(repoRoot, 'clusters', c, 'platform')))
      : [];
    throw new Error(`--cluster ${cluster}: no clusters/${cluster}/platform (clusters: ${known.join(', ') || 'none'}; run from the repository root)`);
  }
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error("--cluster builds the cluster's EnvironmentConfig with `kubectl kustomize`: install kubectl");
    throw new Error(`kubectl kustomize clusters/${cluster}/platform failed: ${e.stderr ?? e.message}`);
  }
  return loadAll(out).filter(isObject);
}

/** --tenant-preview: the objects with each unregistered namespace added to data.tenants, and which were added. */
export function previewTenants(objects: Json[], input: Json | undefined, namespaces: string[]): { objects: Json[]; namespaces: string[] } {
  const name = environmentConfigName(input);
  const added: string[] = [];
  const out = objects.map((o) => {
    if (o['kind'] !== 'EnvironmentConfig' || !isObject(o['metadata']) || o['metadata']['name'] !== name) return o;
    const copy = structuredClone(o);
    const data = (isObject(copy['data']) ? copy['data'] : (copy['data'] = {})) as Json;
    const tenants = (isObject(data['tenants']) ? data['tenants'] : (data['tenants'] = {})) as Json;
    for (const ns of new Set(namespaces)) {
      if (tenants[ns] !== undefined) continue;
      tenants[ns] = {};
      added.push(ns);
    }
    return copy;
  });
  return { objects: out, namespaces: added };
}
