// Finds the bucket requests committed in the repo (XSecureBucketClaims and the namespaced v2
// XSecureBuckets) and reads each with the function's own reader (same defaults, same errors),
// so both sides see the same request. Both name their namespace in metadata.namespace.
import { readdirSync, readFileSync } from 'node:fs';
export { CLAIM_KIND, PLATFORM_API_VERSION as CLAIM_API_VERSION } from '../functions/secure-bucket/src/core/index.js';
import {
  type BucketSpec,
  CLAIM_API,
  CLAIM_KIND,
  NAMESPACED_XR_API,
  type ClaimIdentity,
  isObject,
  type Json,
  PLATFORM_API_VERSION as CLAIM_API_VERSION,
  type PlatformEnvironment,
  readEnvironment,
  readSpec,
  requiredString,
} from '../functions/secure-bucket/src/core/index.js';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { EnvironmentResolver } from './environment-source.js';
import { NAMESPACED_XR_API_VERSION, NAMESPACED_XR_KIND } from '../functions/secure-bucket/cli/xr/namespaced.js';

/** The v2 API: a namespaced XR, no claim (compositions/definition-v2.yaml); the core's own constants. */
export { NAMESPACED_XR_API_VERSION, NAMESPACED_XR_KIND } from '../functions/secure-bucket/src/core/index.js';
/** Folders whose YAML may hold claims; generated/ folders are our output, never input. */
export const CLAIM_ROOTS = ['compositions/examples/claims', 'clusters'];

export interface Claim {
  /** Absolute path of the file holding the claim. */
  file: string;
  identity: ClaimIdentity;
  spec: BucketSpec;
  env: PlatformEnvironment;
  /** Where env came from, for the generated header. */
  envFrom: string;
  /** The folder whose environment applies (compositions/examples or clusters/<cluster>). */
  scope: string;
}

function yamlFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' || e.name.startsWith('.') ? [] : yamlFiles(full);
    return /\.ya?ml$/.test(e.name) ? [full] : [];
  });
}

/** A claim, or a v2 XR (which is the tenant's request itself). */
export function isClaim(doc: unknown): doc is Json {
  if (!isObject(doc)) return false;
  return (
    (doc['kind'] === CLAIM_KIND && doc['apiVersion'] === CLAIM_API_VERSION) ||
    (doc['kind'] === NAMESPACED_XR_KIND && doc['apiVersion'] === NAMESPACED_XR_API_VERSION)
  );
}

/** Every claim document under the claim roots, in path order. */
export function findClaimDocuments(repoRoot: string): Array<{ file: string; doc: Json }> {
  const files = CLAIM_ROOTS.flatMap((root) => yamlFiles(path.join(repoRoot, root))).sort();
  return files.flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    if (!text.includes(NAMESPACED_XR_KIND)) return []; // a substring of CLAIM_KIND too
    return loadAll(text)
      .filter(isClaim)
      .map((doc) => ({ file, doc }));
  });
}

/**
 * The claim's identity as naming.ts needs it. compositeName is Crossplane's generated XR name
 * (`<claim>-<random>`), unknown before the claim exists; naming never uses it, and the
 * role-ARN test renders the function side with a random one to keep it that way.
 */
export function claimIdentity(doc: Json, where: string): ClaimIdentity {
  const metadata = isObject(doc['metadata']) ? doc['metadata'] : {};
  return {
    compositeName: '',
    api: doc['apiVersion'] === NAMESPACED_XR_API_VERSION ? NAMESPACED_XR_API : CLAIM_API,
    claimName: requiredString(metadata['name'], `${where}: metadata.name`),
    claimNamespace: requiredString(metadata['namespace'], `${where}: metadata.namespace`, {
      hint: 'claims and v2 XSecureBuckets are namespaced: set metadata.namespace',
    }),
  };
}

export function loadClaims(repoRoot: string, resolver = new EnvironmentResolver(repoRoot)): Claim[] {
  const envs = new Map<string, PlatformEnvironment>();
  return findClaimDocuments(repoRoot).map(({ file, doc }) => {
    const where = path.relative(repoRoot, file);
    const source = resolver.forClaim(file);
    const scope = resolver.scopeOf(file);
    let env = envs.get(scope);
    if (!env) {
      env = readEnvironment(source.data, `${source.from}: EnvironmentConfig data`);
      envs.set(scope, env);
    }
    try {
      return { file, identity: claimIdentity(doc, where), spec: readSpec(doc, env.region), env, envFrom: source.from, scope };
    } catch (error) {
      throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}
