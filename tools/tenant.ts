// `make tenant NAME=<ns> CLUSTER=<cluster> [SEGMENT=<s>] [API=v2|claim] [MESH=1]`: everything the
// platform writes for a new tenant on one cluster (clusters/README.md, "Add a tenant"). Idempotent:
// run it again for a second cluster. Refuses, writing nothing, what the function would refuse.
//   node dist/tools/tenant.js --name <ns> --cluster <cluster> [--segment <s>] [--api v2|claim] [--mesh]
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadAll } from 'js-yaml';
import { EnvironmentResolver } from '../cdk8s/environment-source.js';
import { readEnvironment } from '../functions/secure-bucket/src/core/index.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export type TenantApi = 'v2' | 'claim';

export interface TenantRequest {
  repoRoot: string;
  name: string;
  cluster: string;
  segment?: string;
  api?: TenantApi;
  mesh?: boolean;
}

interface Edit {
  file: string;
  before: string | undefined;
  after: string;
}

const rel = (root: string, file: string) => path.relative(root, file).split(path.sep).join('/');

/** base/tenants/<ns>: the template with the namespace and the two values kustomize cannot know. */
function baseOnboarding(name: string): string {
  return `# ${name}'s onboarding (written by make tenant): namespace, reconciler account and RoleBinding,
# GitRepository and Kustomization, from ../template. Listed by each cluster that runs ${name}.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ${name}
resources:
  - ../template
patches:
  - patch: |
      - op: replace
        path: /spec/targetNamespace
        value: ${name}
      - op: replace
        path: /spec/path
        value: ./clusters/\${cluster_name}/tenants/${name}
    target:
      group: kustomize.toolkit.fluxcd.io
      kind: Kustomization
      name: secure-buckets
  - patch: |
      - op: replace
        path: /metadata/labels/toolkit.fluxcd.io~1tenant
        value: ${name}
    target:
      kind: Namespace
`;
}

function tenantFolder(name: string, cluster: string, api: TenantApi): string {
  const kind = api === 'v2' ? 'XSecureBucket (storage.platform.example.org/v1alpha1)' : 'XSecureBucketClaim (platform.example.org/v1alpha1)';
  return `# ${name}'s folder on ${cluster}, applied by the Kustomization ${name}/secure-buckets as
# ${name}/flux-reconciler: only kinds of the secure-bucket-tenant role, only in ${name}.
# API: ${kind}. Add a bucket: write <bucket>.yaml here, list it below with \`generated\`,
# run \`make synth\` (cdk8s writes generated/), commit both.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: []
`;
}

/** The API the cluster's tenants already use: v2 if any folder holds an XSecureBucket, else claims. */
export function clusterApi(repoRoot: string, cluster: string): TenantApi {
  const dir = path.join(repoRoot, 'clusters', cluster, 'tenants');
  for (const team of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    for (const f of readdirSync(path.join(dir, team.name)).filter((f) => /\.ya?ml$/.test(f))) {
      if (/^kind: XSecureBucket$/m.test(readFileSync(path.join(dir, team.name, f), 'utf8'))) return 'v2';
    }
  }
  return 'claim';
}

/** Inserts `line` into the run of lines matching `sibling`, sorted; after `anchor` when there is none. */
function insertSorted(text: string, line: string, sibling: RegExp, anchor: RegExp, where: string): string {
  const lines = text.split('\n');
  if (lines.includes(line)) return text;
  const run = lines.map((l, i) => (sibling.test(l) ? i : -1)).filter((i) => i >= 0);
  let at: number;
  if (run.length > 0) {
    const after = run.filter((i) => (lines[i] as string) < line);
    at = after.length > 0 ? (after.at(-1) as number) + 1 : (run[0] as number);
  } else {
    const a = lines.findIndex((l) => anchor.test(l));
    if (a < 0) throw new Error(`${where}: cannot find where to add ${line.trim()}`);
    at = a + 1;
  }
  lines.splice(at, 0, line);
  return lines.join('\n');
}

/** The tenant's entry under data.tenants of the cluster's environment.yaml (comments kept). */
function registerInEnvironment(text: string, name: string, segment: string | undefined, where: string): string {
  const data = (loadAll(text)[0] ?? {}) as { data?: { tenants?: Record<string, unknown> } };
  const existing = data.data?.tenants?.[name];
  if (existing !== undefined) {
    const had = (existing as { nameSegment?: string } | null)?.nameSegment;
    if (segment !== undefined && had !== segment)
      throw new Error(`${where}: ${name} is registered already with nameSegment ${had ?? '(the namespace)'}; never change a tenant's segment`);
    return text;
  }
  const entry = `    ${name}: ${segment === undefined ? '{}' : `{ nameSegment: ${segment} }`}`;
  return appendToBlock(text, /^ {2}tenants:\s*$/, 4, [entry], where);
}

/** Adds lines at the end of the block a header line opens (its lines indented `indent` or deeper). */
function appendToBlock(text: string, header: RegExp, indent: number, add: string[], where: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => header.test(l));
  if (start < 0) throw new Error(`${where}: cannot find ${header.source}`);
  let end = start + 1;
  while (end < lines.length && (/^\s*$/.test(lines[end] as string) ? false : (lines[end] as string).search(/\S/) >= indent)) end++;
  lines.splice(end, 0, ...add);
  return lines.join('\n');
}

/** clusters.<cluster>.meshNamespaces.<ns> in cdk8s/platform.yaml. */
function registerInMesh(text: string, name: string, cluster: string, where: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l === `    ${cluster}:`);
  if (start < 0) throw new Error(`${where}: no clusters.${cluster}: add the cluster's network settings first (cdk8s/README.md)`);
  const end = lines.findIndex((l, i) => i > start && /^ {0,4}\S/.test(l));
  const block = lines.slice(start, end < 0 ? undefined : end);
  const mesh = block.findIndex((l) => l === '      meshNamespaces:');
  if (mesh < 0) throw new Error(`${where}: clusters.${cluster} has no meshNamespaces: add \`meshNamespaces:\` there first`);
  if (block.some((l) => l === `        ${name}:`)) return text;
  const before = lines.slice(0, start + mesh).join('\n');
  const rest = appendToBlock(lines.slice(start + mesh).join('\n'), /^ {6}meshNamespaces:$/, 8, [`        ${name}:`, '          callers: {}'], where);
  return `${before}\n${rest}`;
}

/** Plans every file; throws before anything is written. */
export function planTenant(req: TenantRequest): { edits: Edit[]; api: TenantApi } {
  const { repoRoot, name, cluster } = req;
  if (!DNS_LABEL.test(name)) throw new Error(`NAME=${name} is not a namespace name (a DNS label: lowercase letters, digits, inner hyphens, at most 63)`);
  if (req.segment !== undefined && !DNS_LABEL.test(req.segment)) throw new Error(`SEGMENT=${req.segment} is not a DNS label`);
  const clusterDir = path.join(repoRoot, 'clusters', cluster);
  if (!existsSync(path.join(clusterDir, 'flux-system'))) {
    const known = readdirSync(path.join(repoRoot, 'clusters')).filter((c) => existsSync(path.join(repoRoot, 'clusters', c, 'flux-system')));
    throw new Error(`CLUSTER=${cluster}: no clusters/${cluster}/flux-system (clusters: ${known.join(', ')})`);
  }
  const api = req.api ?? clusterApi(repoRoot, cluster);
  const edits: Edit[] = [];
  const edit = (file: string, change: (before: string | undefined) => string) => {
    const abs = path.join(repoRoot, file);
    const before = existsSync(abs) ? readFileSync(abs, 'utf8') : undefined;
    const after = change(before);
    if (after !== before) edits.push({ file: abs, before, after });
  };
  edit(`clusters/base/tenants/${name}/kustomization.yaml`, (b) => b ?? baseOnboarding(name));
  const tenantsK = `clusters/${cluster}/tenants/kustomization.yaml`;
  edit(tenantsK, (b) =>
    insertSorted(b ?? '', `  - ../../base/tenants/${name}`, /^ {2}- \.\.\/\.\.\/base\/tenants\/[^/]+$/, /^ {2}- \.\.\/\.\.\/base\/tenants$/, tenantsK),
  );
  edit(`clusters/${cluster}/tenants/${name}/kustomization.yaml`, (b) => b ?? tenantFolder(name, cluster, api));
  const envFile = `clusters/${cluster}/platform/environment.yaml`;
  edit(envFile, (b) => registerInEnvironment(b ?? '', name, req.segment, envFile));
  if (req.mesh) edit('cdk8s/platform.yaml', (b) => registerInMesh(b ?? '', name, cluster, 'cdk8s/platform.yaml'));
  return { edits, api };
}

function apply(edits: Edit[], undo = false): void {
  for (const e of edits) {
    const text = undo ? e.before : e.after;
    if (text === undefined)
      rmSync(e.file, { force: true }); // a file we created: gone again
    else {
      mkdirSync(path.dirname(e.file), { recursive: true });
      writeFileSync(e.file, text);
    }
  }
}

/** Writes the plan, then checks the cluster's EnvironmentConfig as Flux builds it; undoes all on error. */
export function scaffoldTenant(req: TenantRequest): { written: string[]; api: TenantApi } {
  const { edits, api } = planTenant(req);
  apply(edits);
  try {
    readEnvironment(
      new EnvironmentResolver(req.repoRoot).forClaim(path.join(req.repoRoot, 'clusters', req.cluster, 'tenants', req.name, 'kustomization.yaml')).data,
    );
  } catch (error) {
    apply(edits, true);
    throw error;
  }
  return { written: edits.map((e) => rel(req.repoRoot, e.file)), api };
}

function starter(name: string, api: TenantApi): string {
  const head =
    api === 'v2'
      ? 'apiVersion: storage.platform.example.org/v1alpha1\nkind: XSecureBucket'
      : 'apiVersion: platform.example.org/v1alpha1\nkind: XSecureBucketClaim';
  return `${head}\nmetadata:\n  name: reports\n  namespace: ${name}\nspec:\n  consumers:\n    - name: reports-api\n      serviceAccount: reports-api\n      access: ReadWrite\n      prefixes: [reports/]\n`;
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { name: { type: 'string' }, cluster: { type: 'string' }, segment: { type: 'string' }, api: { type: 'string' }, mesh: { type: 'string' } },
  });
  if (!values.name || !values.cluster) {
    process.stderr.write('usage: make tenant NAME=<namespace> CLUSTER=<cluster> [SEGMENT=<name segment>] [API=v2|claim] [MESH=1]\n');
    return 2;
  }
  if (values.api !== undefined && values.api !== '' && values.api !== 'v2' && values.api !== 'claim') {
    process.stderr.write(`API=${values.api}: use v2 (namespaced XSecureBucket) or claim (XSecureBucketClaim)\n`);
    return 2;
  }
  const repoRoot = process.cwd();
  try {
    const { written, api } = scaffoldTenant({
      repoRoot,
      name: values.name,
      cluster: values.cluster,
      ...(values.segment ? { segment: values.segment } : {}),
      ...(values.api ? { api: values.api as TenantApi } : {}),
      mesh: values.mesh !== undefined && values.mesh !== '' && values.mesh !== '0',
    });
    process.stdout.write(
      written.length === 0 ? `${values.name} is onboarded on ${values.cluster} already: nothing to write\n` : written.map((f) => `wrote ${f}\n`).join(''),
    );
    const folder = `clusters/${values.cluster}/tenants/${values.name}`;
    process.stdout.write(
      `\nNext, as the tenant (${api === 'v2' ? 'v2 XSecureBucket' : 'XSecureBucketClaim'}):\n` +
        `  1. write ${folder}/reports.yaml, e.g.\n${starter(values.name, api).replace(/^/gm, '       ')}\n` +
        `  2. list it in ${folder}/kustomization.yaml: resources: [reports.yaml, generated]\n` +
        `  3. make synth && make test, then commit\n` +
        `Try a bucket before this is merged: npm run -s render -- --cluster ${values.cluster} ${folder}\n`,
    );
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // The new tenant is the one to get a segment of its own: say how.
    const hint =
      /nameSegment/.test(message) && !values.segment
        ? `\nFor ${values.name}, the new tenant: make tenant NAME=${values.name} CLUSTER=${values.cluster} SEGMENT=${values.name}0\n`
        : '\n';
    process.stderr.write(`make tenant: ${message}${hint}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && path.basename(process.argv[1]) === 'tenant.js') process.exitCode = main(process.argv.slice(2));
