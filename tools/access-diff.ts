// `make access-diff BASE=<git ref>`: the pull-request gate. Who gains and loses access to a bucket
// between BASE and HEAD (the working tree), judged on what Flux applies, not on raw files: BASE is
// written out with `git archive`, HEAD is the working tree's tracked and untracked files, and every
// cluster is reconciled on both (tools/flux-build.ts: each Flux Kustomization built from its own
// source, postBuild and targetNamespace applied). Buckets are selected by apiVersion group + kind
// from the XRDs in compositions/, paired by (cluster, group, kind, namespace, name), and the ones
// that differ go through `render --diff-access` with the cluster's EnvironmentConfig. Every tenant
// folder is built, not only the changed ones: a tenant's build can read files outside its folder
// (`../`, symlinks), so "which folder changed" is answered by the build, not by git.
// Exit: 0 (nothing gained, or no --fail-on-widening), 3 (a gain with --fail-on-widening), 1 when
// anything could not be built or judged at HEAD, 2 on usage.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump, loadAll } from 'js-yaml';
import { canonicalJson, DEFAULT_ENVIRONMENT_CONFIG, ENVIRONMENT_CONFIG_API_VERSION } from '../functions/secure-bucket/src/core/index.js';
import {
  buildKustomization,
  checkReachable,
  checkSymlinks,
  clusterNames,
  clustersOnlyCopy,
  groupOf,
  type K8sObject,
  reconcileCluster,
  type Revision,
} from './flux-build.js';

const repoRoot = process.cwd();
// Beside this file in dist/, so the gate runs on any checkout (a test's scratch repo too).
const render = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../functions/secure-bucket/cli/render.js');

function git(args: string[], input?: Buffer): Buffer {
  return execFileSync('git', args, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 512 * 1024 * 1024, ...(input ? { input } : {}) });
}

function writeBase(base: string, dest: string): void {
  execFileSync('tar', ['-x', '-C', dest], { input: git(['archive', '--format=tar', base]), stdio: ['pipe', 'ignore', 'pipe'] });
}

/** HEAD as the working tree: tracked and untracked files (not ignored ones), symlinks kept as links. */
function writeHead(dest: string): void {
  const files = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard']).toString('utf8').split('\0').filter(Boolean);
  for (const file of new Set(files)) {
    const from = path.join(repoRoot, file);
    let st;
    try {
      st = lstatSync(from);
    } catch {
      continue; // deleted in the working tree
    }
    const to = path.join(dest, file);
    mkdirSync(path.dirname(to), { recursive: true });
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else if (st.isFile()) copyFileSync(from, to);
  }
}

/** The bucket kinds: (group, kind) of each XRD's namespaced XR and of its claim. */
function bucketKinds(full: string): Set<string> {
  const kinds = new Set<string>();
  const dir = path.join(full, 'compositions');
  if (!existsSync(dir)) return kinds;
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    for (const doc of loadAll(readFileSync(path.join(dir, file), 'utf8'))) {
      const d = doc as {
        apiVersion?: string;
        kind?: string;
        spec?: { group?: string; scope?: string; names?: { kind?: string }; claimNames?: { kind?: string } };
      } | null;
      if (d?.kind !== 'CompositeResourceDefinition' || groupOf(d.apiVersion ?? '') !== 'apiextensions.crossplane.io' || !d.spec?.group) continue;
      if (d.spec.claimNames?.kind) kinds.add(`${d.spec.group}/${d.spec.claimNames.kind}`);
      if (d.spec.scope === 'Namespaced' && d.spec.names?.kind) kinds.add(`${d.spec.group}/${d.spec.names.kind}`);
    }
  }
  return kinds;
}

interface Bucket {
  key: string;
  stage: string;
  object: K8sObject;
}

interface Side {
  buckets: Map<string, Map<string, Bucket>>; // cluster -> key -> bucket
  environments: Map<string, unknown>;
  folders: Map<string, string[]>; // cluster -> folders built
  errors: string[];
}

/**
 * Every bucket each cluster applies. A document whose group or kind matches a bucket kind only
 * when case is ignored (or with another group) is an error: the apiserver would not take it as a
 * bucket, but the gate does not guess what it would do.
 */
function readSide(rev: Revision, kinds: Set<string>): Side {
  const side: Side = { buckets: new Map(), environments: new Map(), folders: new Map(), errors: checkSymlinks(rev.full, rev.label) };
  const lower = [...kinds].map((k) => k.toLowerCase());
  const kindNames = new Set([...kinds].map((k) => k.split('/').pop()?.toLowerCase()));
  const groups = new Set([...kinds].map((k) => k.slice(0, k.lastIndexOf('/')).toLowerCase()));
  for (const cluster of clusterNames(rev.full)) {
    const { stages, errors } = reconcileCluster(cluster, rev);
    side.errors.push(...errors);
    const buckets = new Map<string, Bucket>();
    side.folders.set(
      cluster,
      stages.map((s) => s.path),
    );
    for (const stage of stages) {
      for (const object of stage.objects) {
        const apiVersion = String(object.apiVersion);
        const gk = `${groupOf(apiVersion)}/${String(object.kind)}`;
        if (object.kind === 'EnvironmentConfig' && object.metadata?.name === DEFAULT_ENVIRONMENT_CONFIG) side.environments.set(cluster, object['data']);
        if (!kinds.has(gk)) {
          if (lower.includes(gk.toLowerCase()) || kindNames.has(String(object.kind).toLowerCase()) || groups.has(groupOf(apiVersion).toLowerCase())) {
            side.errors.push(
              `${rev.label}: ${stage.path} (${cluster}): apiVersion '${apiVersion}' kind '${String(object.kind)}' (${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}) looks like a bucket but is not one of ${[...kinds].join(', ')}: not judged, so not passed`,
            );
          }
          continue;
        }
        const key = `${gk}/${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
        const other = buckets.get(key);
        if (other !== undefined)
          side.errors.push(`${rev.label}: ${key} is applied twice in ${cluster} (${other.stage}, ${stage.path}): which one wins is not knowable`);
        buckets.set(key, { key, stage: stage.path, object });
      }
    }
    side.buckets.set(cluster, buckets);
  }
  return side;
}

function main(argv: string[]): number {
  const base = argv[0];
  const passThrough = argv.slice(1);
  if (!base) {
    process.stderr.write('usage: make access-diff BASE=<git ref> [FAIL_ON_WIDENING=1]\n');
    return 2;
  }
  try {
    git(['rev-parse', '--verify', `${base}^{commit}`]);
  } catch {
    process.stderr.write(`error: BASE '${base}' is not a commit of ${repoRoot}\n`);
    return 1;
  }
  const tmp = mkdtempSync(path.join(tmpdir(), 'access-diff-'));
  try {
    const revs: Record<'base' | 'head', Revision> = {
      base: { label: `BASE ${base}`, full: path.join(tmp, 'base/repo'), clustersOnly: path.join(tmp, 'base/clusters-only') },
      head: { label: 'HEAD', full: path.join(tmp, 'head/repo'), clustersOnly: path.join(tmp, 'head/clusters-only') },
    };
    for (const rev of Object.values(revs)) mkdirSync(rev.full, { recursive: true });
    writeBase(base, revs.base.full);
    writeHead(revs.head.full);
    for (const rev of Object.values(revs)) {
      mkdirSync(rev.clustersOnly, { recursive: true });
      clustersOnlyCopy(rev.full, rev.clustersOnly);
    }
    const kinds = new Set([...bucketKinds(revs.base.full), ...bucketKinds(revs.head.full)]);
    if (kinds.size === 0) {
      process.stderr.write('error: no CompositeResourceDefinition in compositions/ names a bucket kind\n');
      return 1;
    }
    const before = readSide(revs.base, kinds);
    const after = readSide(revs.head, kinds);
    // BASE that does not build: its buckets count as absent, so everything at HEAD is a gain.
    for (const e of before.errors) process.stderr.write(`warning: ${e}\n`);
    if (after.errors.length > 0) {
      for (const e of after.errors) process.stderr.write(`error: ${e}\n`);
      process.stderr.write('error: the access gate could not judge HEAD; it fails rather than pass what it did not see\n');
      return 1;
    }
    const unapplied = unappliedTenantFolders(base, revs.head, after);
    if (unapplied === undefined) return 1;
    return diffClusters(before, after, tmp, base, passThrough);
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Tenant folders (clusters/<cluster>/tenants/<ns>/) with a change since BASE that no Flux
 * Kustomization applies: still built (a broken one fails the gate, it would break the day it is
 * onboarded), and named in the report. undefined when one does not build.
 */
function unappliedTenantFolders(base: string, head: Revision, after: Side): string[] | undefined {
  const changed = [
    ...git(['diff', '--name-only', '-z', base]).toString('utf8').split('\0'),
    ...git(['ls-files', '-z', '--others', '--exclude-standard']).toString('utf8').split('\0'),
  ];
  const folders = new Set(changed.map((f) => /^clusters\/[^/]+\/tenants\/[^/]+\//.exec(f)?.[0].slice(0, -1)).filter((f): f is string => f !== undefined));
  const applied = new Set([...after.folders.values()].flat());
  const out: string[] = [];
  let failed = false;
  for (const folder of [...folders].sort()) {
    const dir = path.join(head.clustersOnly, folder);
    if (applied.has(folder) || !['kustomization.yaml', 'kustomization.yml', 'Kustomization'].some((f) => existsSync(path.join(dir, f)))) continue;
    const reach = checkReachable(head.clustersOnly, dir, `HEAD: ${folder}`);
    try {
      if (reach.length > 0) throw new Error(reach.join('\n'));
      buildKustomization(dir);
      out.push(folder);
    } catch (err) {
      process.stderr.write(
        `error: HEAD: ${folder} (changed, applied by no Flux Kustomization) does not build:\n${(err as Error).message.split(head.clustersOnly + path.sep).join('')}\n`,
      );
      failed = true;
    }
  }
  if (failed) return undefined;
  for (const folder of out) process.stdout.write(`<!-- ${folder}: changed, but no Flux Kustomization applies it: nothing in it reaches a cluster -->\n`);
  return out;
}

function diffClusters(before: Side, after: Side, tmp: string, base: string, passThrough: string[]): number {
  let failed = false;
  let widened = false;
  let any = false;
  const clusters = [...new Set([...before.buckets.keys(), ...after.buckets.keys()])].sort();
  for (const cluster of clusters) {
    const b = before.buckets.get(cluster) ?? new Map<string, Bucket>();
    const h = after.buckets.get(cluster) ?? new Map<string, Bucket>();
    const changed = [...new Set([...b.keys(), ...h.keys()])]
      .sort()
      .filter((k) => canonicalJson(b.get(k)?.object ?? null) !== canonicalJson(h.get(k)?.object ?? null));
    if (changed.length === 0) continue;
    any = true;
    const env = after.environments.get(cluster) ?? before.environments.get(cluster);
    if (env === undefined) {
      process.stderr.write(`error: ${cluster}: no EnvironmentConfig '${DEFAULT_ENVIRONMENT_CONFIG}' is applied, so access cannot be evaluated\n`);
      failed = true;
      continue;
    }
    const dir = path.join(tmp, 'diff', cluster);
    mkdirSync(dir, { recursive: true });
    const write = (name: string, side: Map<string, Bucket>) => {
      const file = path.join(dir, name);
      writeFileSync(file, changed.flatMap((k) => (side.has(k) ? [JSON.stringify(side.get(k)?.object)] : [])).join('\n---\n'));
      return file;
    };
    const envFile = path.join(dir, 'environment.yaml');
    writeFileSync(
      envFile,
      dump({ apiVersion: ENVIRONMENT_CONFIG_API_VERSION, kind: 'EnvironmentConfig', metadata: { name: DEFAULT_ENVIRONMENT_CONFIG }, data: env }),
    );
    const folders = [...new Set(changed.flatMap((k) => [b.get(k)?.stage, h.get(k)?.stage]).filter((s): s is string => s !== undefined))];
    const envNote =
      canonicalJson((before.environments.get(cluster) ?? null) as never) !== canonicalJson((env ?? null) as never)
        ? " (its EnvironmentConfig changed too: both sides use HEAD's)"
        : '';
    process.stdout.write(`<!-- cluster ${cluster}: ${changed.join(', ')} built from ${folders.join(', ')}${envNote} -->\n`);
    const run = spawnSync(process.execPath, [render, '--diff-access', '--environment', envFile, ...passThrough, write('base.yaml', b), write('head.yaml', h)], {
      cwd: repoRoot,
      stdio: 'inherit',
    });
    const code = run.status ?? 1;
    if (code === 3) widened = true;
    else if (code !== 0) failed = true;
  }
  if (!any) {
    const built = [...after.folders.values()].reduce((n, f) => n + f.length, 0);
    process.stdout.write(
      `## Access diff\n\nNo bucket changed since ${base} in what Flux applies (${built} folders built on ${after.buckets.size} cluster(s)).\n`,
    );
  }
  // An error outranks a widening: both fail, but the error says the report is incomplete.
  return failed ? 1 : widened ? 3 : 0;
}

process.exitCode = main(process.argv.slice(2));
