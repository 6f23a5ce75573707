// The render CLI: claim files in, the managed resources our function desires out. It starts the
// real function on loopback and talks gRPC to it, exactly as Crossplane would.
//   npm run -s render -- [--converge] [--output yaml|json] [--summary] [--environment FILE] CLAIM.yaml|FOLDER...
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { dump } from 'js-yaml';
import { endpointPolicy, isObject, type Json, readEnvironment, readSpec } from '../src/core/index.js';
import { asJson, asYaml, renderAll, type ClaimOutput } from './batch.js';
import { compositeForClaim, type Claim } from './control-plane/index.js';
import { DEFAULT_ASSUMPTIONS, estimateCost, formatCost } from './cost.js';
import { clusterEnvironmentObjects, environmentData, previewTenants } from './environment.js';
import { FakeAccount, type AccountState } from './control-plane/index.js';
import { claimId, loadClaims, readYamlDocuments, type LoadedClaim } from './inputs.js';
import { runCli, write } from './output.js';
import { DEFAULT_PRICE_TABLE, readPriceTable } from './prices.js';
import type { RenderedClaim, RequiredResourceSelector } from './control-plane/index.js';
import { functionInputFrom, stepRequirementsFrom } from './composition.js';
import { stepFrom } from './xr/step.js';
import { printMigrated } from './xr/migrate.js';

const USAGE = [
  'usage: render [--converge] [--output yaml|json] [--summary] [--emit-xr] [--explain-access] [--environment FILE] [--composition FILE]',
  '              [--composition-v2 FILE] [--account-state FILE] [--save-account-state FILE] [--delete] CLAIM.yaml|XR.yaml|FOLDER...',
  "              (XSecureBucketClaims and namespaced v2 XSecureBuckets; a v2 XR gets --composition-v2's step)",
  '       render --diff-access [--fail-on-widening] BASE HEAD      (claim files or folders; Markdown on stdout; exit 3 on widening)',
  '       render --cost [--gb-per-month N] [--prices FILE] CLAIM.yaml|FOLDER...',
  '       render --endpoint-policy [--environment FILE]',
  '       render --migrate CLAIM.yaml|FOLDER...                  (the v2 XSecureBucket that takes over each claim; docs/migrate-to-v2.md)',
  '',
  '  --cluster NAME             the EnvironmentConfig of clusters/NAME as Flux builds it (kubectl kustomize clusters/NAME/platform),',
  "                             instead of --environment (default: compositions/examples/environment.yaml, staging's values)",
  '  --tenant-preview           render a namespace the EnvironmentConfig does not register yet as if it were, and say so',
  "  --converge                 feed the fake provider's reports back pass after pass until nothing changes",
  '  --account-state FILE       start from what the AWS account already holds: YAML or JSON, kind -> external name -> settings',
  '                             (as status.atProvider reports them, tags included), e.g. a bucket an earlier claim left behind',
  '  --save-account-state FILE  write what the account holds once every claim is rendered (with --converge)',
  '  --delete                   after converging, delete each claim as Crossplane would: AWS keeps only what is Orphan',
].join('\n');

/** The account the fake provider works in: the one the EnvironmentConfig names. */
function accountOf(clusterObjects: Json[]): { accountId: string; partition: string } {
  const env = clusterObjects.find((o) => o['kind'] === 'EnvironmentConfig');
  const data = isObject(env?.['data']) ? env['data'] : {};
  return { accountId: String(data['accountId'] ?? '000000000000'), partition: String(data['partition'] ?? 'aws') };
}

/** --account-state: kind -> external name -> settings; refused with the file's name when it is not. */
export function readAccountState(file: string): AccountState {
  if (!existsSync(file)) throw new Error(`--account-state ${file}: no such file`);
  const docs = readYamlDocuments(file);
  const state = docs[0] ?? {};
  if (docs.length > 1 || !isObject(state) || !Object.values(state).every((byName) => isObject(byName) && Object.values(byName).every(isObject))) {
    throw new Error(`--account-state ${file}: expected one mapping of kind -> external name -> settings (e.g. Bucket: { my-bucket: { tags: {...} } })`);
  }
  return state as AccountState;
}

export function summarise(claim: Claim, r: RenderedClaim): string {
  const id = claimId(claim);
  if (r.fatal) return `${id}: FAILED ${r.fatal}`;
  const byKind = new Map<string, number>();
  for (const res of Object.values(r.resources)) byKind.set(String(res['kind']), (byKind.get(String(res['kind'])) ?? 0) + 1);
  const kinds = [...byKind.entries()].map(([k, n]) => (n > 1 ? `${k}×${n}` : k)).join(', ');
  const pending =
    Array.isArray(r.status['pendingValues']) && r.status['pendingValues'].length > 0 ? `, waiting for ${r.status['pendingValues'].join(', ')}` : '';
  return `${id}: s3://${String(r.status['bucketName'])} lock=${String(r.status['objectLock'])} ${Object.keys(r.resources).length} resources in ${r.passes} pass(es)${pending}\n    ${kinds}`;
}

/**
 * --explain-access: who may do what, by which path, per the IAM simulator. The simulator is an AGPL
 * devDependency: it is imported here, on demand, and never by the function server.
 */
async function explainAccessOf(claims: LoadedClaim[], envData: unknown): Promise<void> {
  const { explainAccess } = await import('./explain/index.js');
  for (const { claim } of claims) await write(`${await explainAccess(compositeForClaim(claim), envData)}\n`);
}

/** --diff-access BASE HEAD: Markdown for a pull request; 3 when access widens and --fail-on-widening. */
async function diffAccessOf(positionals: string[], envData: unknown, failOnWidening: boolean): Promise<number> {
  if (positionals.length !== 2) {
    process.stderr.write(`--diff-access takes two arguments, BASE and HEAD (claim files or folders)\n${USAGE}\n`);
    return 2;
  }
  const { diffAccess } = await import('./explain/diff-access.js');
  const result = await diffAccess([positionals[0] as string], [positionals[1] as string], envData);
  await write(result.markdown);
  for (const e of result.errors) process.stderr.write(`error: ${e}\n`);
  if (result.errors.length > 0) return 1;
  return failOnWidening && result.diffs.some((d) => d.gains.length > 0) ? 3 : 0;
}

async function costOf(outputs: ClaimOutput[], envData: unknown, gbPerMonth: number, pricesFile: string): Promise<void> {
  const table = readPriceTable(pricesFile);
  const region = readEnvironment(envData).region;
  const assumptions = { ...DEFAULT_ASSUMPTIONS, gbPerMonth };
  for (const { loaded, rendered } of outputs.filter((o) => !o.rendered.fatal)) {
    const spec = readSpec(rendered.composite, region);
    const estimate = estimateCost({ claim: claimId(loaded.claim), spec, resources: rendered.resources }, table, assumptions);
    await write(`${formatCost(estimate, table, assumptions)}\n\n`);
  }
}

/**
 * --emit-xr: the XR Crossplane creates for each claim, the input upstream `crossplane render`
 * takes; only for claims the function accepts (an invalid one is reported and exits 1).
 */
async function emitXrs(outputs: ClaimOutput[]): Promise<void> {
  for (const { loaded } of outputs.filter((o) => !o.rendered.fatal)) await write(`---\n${dump(compositeForClaim(loaded.claim), { lineWidth: -1 })}`);
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      converge: { type: 'boolean', default: false },
      output: { type: 'string', default: 'yaml' },
      summary: { type: 'boolean', default: false },
      'emit-xr': { type: 'boolean', default: false },
      'explain-access': { type: 'boolean', default: false },
      'endpoint-policy': { type: 'boolean', default: false },
      'diff-access': { type: 'boolean', default: false },
      'fail-on-widening': { type: 'boolean', default: false },
      cost: { type: 'boolean', default: false },
      'gb-per-month': { type: 'string', default: String(DEFAULT_ASSUMPTIONS.gbPerMonth) },
      prices: { type: 'string', default: DEFAULT_PRICE_TABLE },
      environment: { type: 'string' },
      cluster: { type: 'string' },
      'tenant-preview': { type: 'boolean', default: false },
      composition: { type: 'string', default: 'compositions/composition.yaml' },
      'composition-v2': { type: 'string', default: 'compositions/composition-v2.yaml' },
      migrate: { type: 'boolean', default: false },
      'account-state': { type: 'string' },
      'save-account-state': { type: 'string' },
      delete: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.cluster !== undefined && values.environment !== undefined) {
    process.stderr.write(`--cluster and --environment both name the EnvironmentConfig: use one\n${USAGE}\n`);
    return 2;
  }
  // --cluster: the cluster's platform objects as Flux applies them; else the file (the example by default).
  const environmentFile = values.environment ?? 'compositions/examples/environment.yaml';
  const readClusterObjects = (): Json[] =>
    values.cluster !== undefined ? clusterEnvironmentObjects(values.cluster) : readYamlDocuments(environmentFile).filter(isObject);
  if (values['endpoint-policy']) return printEndpointPolicy(readClusterObjects(), values.cluster ?? environmentFile);
  if (values.help || positionals.length === 0) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (values.output !== 'yaml' && values.output !== 'json') {
    process.stderr.write(`--output must be yaml or json, not '${values.output}'\n${USAGE}\n`);
    return 2;
  }
  const gbPerMonth = Number(values['gb-per-month']);
  if (!Number.isFinite(gbPerMonth) || gbPerMonth < 0) {
    process.stderr.write(`--gb-per-month must be a number of GB >= 0, not '${values['gb-per-month']}'\n`);
    return 2;
  }
  let clusterObjects = readClusterObjects();
  let input: Json | undefined;
  let requiredResources: RequiredResourceSelector[] = [];
  try {
    input = functionInputFrom(values.composition);
    requiredResources = stepRequirementsFrom(values.composition);
  } catch {
    input = undefined; // no Composition yet: the function falls back to its default input and asks
  }
  const loaded = values['diff-access'] ? { claims: [], errors: [] } : loadClaims(positionals);
  for (const e of loaded.errors) process.stderr.write(`error: ${e.message}\n`);
  let preview = '';
  if (values['tenant-preview']) {
    const added = previewTenants(
      clusterObjects,
      input,
      loaded.claims.map((c) => c.claim.metadata.namespace),
    );
    clusterObjects = added.objects;
    if (added.namespaces.length > 0) {
      preview = `PREVIEW (--tenant-preview): ${added.namespaces.join(', ')} not registered under data.tenants of ${values.cluster ?? environmentFile}; rendered as if it were. Not deployable until the platform team runs make tenant NAME=${added.namespaces[0] ?? ''} CLUSTER=${values.cluster ?? '<cluster>'}`;
      process.stderr.write(`note: ${preview}\n`);
    }
  }
  const needsEnvironment = values['diff-access'] || values['explain-access'] || values.cost;
  const envData = needsEnvironment ? environmentData(clusterObjects, input) : undefined;
  if (values['diff-access']) return diffAccessOf(positionals, envData, values['fail-on-widening']);

  if (values.migrate) return printMigrated(loaded);
  if (values['explain-access']) {
    await explainAccessOf(loaded.claims, envData);
    return loaded.errors.length > 0 ? 1 : 0;
  }
  const converge = values.converge || values.cost;
  if ((values['save-account-state'] !== undefined || values.delete) && !converge) {
    process.stderr.write(`--save-account-state and --delete need --converge: the account holds what the provider applied\n${USAGE}\n`);
    return 2;
  }
  const aws = new FakeAccount(accountOf(clusterObjects), values['account-state'] === undefined ? {} : readAccountState(values['account-state']));
  const outputs = await renderAll(loaded.claims, {
    clusterObjects,
    converge,
    account: aws,
    deleteAfter: values.delete,
    requiredResources,
    namespacedStep: stepFrom(values['composition-v2']),
    ...(input ? { input } : {}),
  });
  if (values['save-account-state'] !== undefined) writeFileSync(values['save-account-state'], `${JSON.stringify(aws.state, null, 2)}\n`);
  const failed = outputs.filter((o) => o.rendered.fatal);
  for (const { loaded: l, rendered } of failed) {
    process.stderr.write(`error: ${claimId(l.claim)}: ${rendered.fatal}\n`);
    if (/under data\.tenants/.test(rendered.fatal ?? '') && !values['tenant-preview'])
      process.stderr.write(`note: to try ${claimId(l.claim)} before its namespace is registered: add --tenant-preview\n`);
  }
  // JSON carries results and passes; in YAML mode a person reads them on stderr.
  if (values.output === 'yaml' && !values['emit-xr'] && !values.cost) {
    const counted = converge
      ? undefined
      : await renderAll(loaded.claims, {
          clusterObjects,
          converge: true,
          account: new FakeAccount(accountOf(clusterObjects)),
          requiredResources,
          namespacedStep: stepFrom(values['composition-v2']),
          ...(input ? { input } : {}),
        });
    for (const [i, { loaded: l, rendered }] of outputs.entries()) {
      if (rendered.fatal) continue;
      for (const r of rendered.results) process.stderr.write(`${r.severity === 'Warning' ? 'warning' : 'note'}: ${claimId(l.claim)}: ${r.message}\n`);
      const total = counted?.[i]?.rendered.passes;
      process.stderr.write(
        converge
          ? `note: ${claimId(l.claim)}: converged after ${rendered.passes} pass(es); this is the last\n`
          : `note: ${claimId(l.claim)}: this is pass 1 (observe-only) of ${total ?? '?'}; ${total !== undefined && total > 1 ? `${total - 1} more follow as the provider reports back; ` : ''}--converge shows the last\n`,
      );
    }
  }

  if (values['emit-xr']) await emitXrs(outputs);
  else if (values.cost) await costOf(outputs, envData, gbPerMonth, values.prices);
  else await write(values.output === 'json' ? asJson(outputs, loaded.errors, preview || undefined) : `${preview ? `# ${preview}\n` : ''}${asYaml(outputs)}`);
  if (values.summary) for (const { loaded: l, rendered } of outputs) process.stderr.write(`${summarise(l.claim, rendered)}\n`);
  return failed.length > 0 || loaded.errors.length > 0 ? 1 : 0;
}

/**
 * The policy of the platform's shared S3 gateway endpoint (Shared mode: no claim creates it), for
 * the platform team to attach: `aws ec2 modify-vpc-endpoint --policy-document file://...`.
 */
async function printEndpointPolicy(objects: Json[], from: string): Promise<number> {
  const config = objects.find((d) => isObject(d) && d['kind'] === 'EnvironmentConfig');
  if (!isObject(config)) {
    process.stderr.write(`${from}: no EnvironmentConfig in it\n`);
    return 1;
  }
  const env = readEnvironment(config['data']);
  await write(`${endpointPolicy(env, env.region)}\n`);
  return 0;
}

runCli('render', main);
