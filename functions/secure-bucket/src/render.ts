// The render CLI: claim files in, the managed resources our function desires out. It starts the
// real function on loopback and talks gRPC to it, exactly as Crossplane would.
//   npm run -s render -- [--converge] [--output yaml|json] [--summary] [--environment FILE] CLAIM.yaml...
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { dump, loadAll } from 'js-yaml';
import { startLocalFunction } from './client.js';
import { isObject, type Json } from './core/fields.js';
import { readEnvironment } from './core/environment.js';
import { endpointPolicy } from './core/network.js';
import { DEFAULT_ENVIRONMENT_CONFIG, runFunction } from './function.js';
import { asClaim, compositeForClaim, type Claim } from './render/composite.js';
import { FakeAccount, type AccountState } from './render/fake-provider.js';
import { functionInputFrom, stepRequirementsFrom } from './render/composition.js';
import { renderClaim, type RenderedClaim, type RequiredResourceSelector } from './render/session.js';

const USAGE = [
  'usage: render [--converge] [--output yaml|json] [--summary] [--emit-xr] [--explain-access] [--environment FILE] [--composition FILE]',
  '              [--account-state FILE] [--save-account-state FILE] [--delete] CLAIM.yaml...',
  'usage: render --endpoint-policy [--environment FILE]',
  '',
  '  --converge                 feed the fake provider\'s reports back pass after pass until nothing changes',
  '  --account-state FILE       start from what the AWS account already holds: YAML or JSON, kind -> external name -> settings',
  '                             (as status.atProvider reports them, tags included), e.g. a bucket an earlier claim left behind',
  '  --save-account-state FILE  write what the account holds once every claim is rendered (with --converge)',
  '  --delete                   after converging, delete each claim as Crossplane would: AWS keeps only what is Orphan',
].join('\n');

export function readYamlDocuments(file: string): unknown[] {
  return loadAll(readFileSync(file, 'utf8')).filter((d) => d !== null && d !== undefined);
}

/** The resource as `crossplane render` prints it: named after its composition resource name. */
function printable(rendered: RenderedClaim, name: string, resource: Json): Json {
  const metadata = (resource['metadata'] ?? {}) as Json;
  const xrName = (rendered.composite['metadata'] as Json)['name'] as string;
  return {
    ...resource,
    metadata: {
      ...metadata,
      generateName: `${xrName}-`,
      annotations: { ...((metadata['annotations'] as Json | undefined) ?? {}), 'crossplane.io/composition-resource-name': name },
    },
  };
}

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
  const id = `${claim.metadata.namespace}/${claim.metadata.name}`;
  if (r.fatal) return `${id}: FAILED ${r.fatal}`;
  const byKind = new Map<string, number>();
  for (const res of Object.values(r.resources)) byKind.set(String(res['kind']), (byKind.get(String(res['kind'])) ?? 0) + 1);
  const kinds = [...byKind.entries()].map(([k, n]) => (n > 1 ? `${k}×${n}` : k)).join(', ');
  const pending = Array.isArray(r.status['pendingValues']) && r.status['pendingValues'].length > 0 ? `, waiting for ${r.status['pendingValues'].join(', ')}` : '';
  return `${id}: s3://${String(r.status['bucketName'])} lock=${String(r.status['objectLock'])} ${Object.keys(r.resources).length} resources in ${r.passes} pass(es)${pending}\n    ${kinds}`;
}

/**
 * --explain-access: who may do what, by which path, per the IAM simulator. The simulator is an AGPL
 * devDependency: it is imported here, on demand, and never by the function server.
 */
async function explainAccessOf(claims: Claim[], clusterObjects: Json[], input: Json | undefined): Promise<number> {
  const { explainAccess } = await import('./explain/index.js');
  const name = typeof input?.['environmentConfigName'] === 'string' ? input['environmentConfigName'] : DEFAULT_ENVIRONMENT_CONFIG;
  const env = clusterObjects.find((o) => o['kind'] === 'EnvironmentConfig' && isObject(o['metadata']) && o['metadata']['name'] === name);
  if (env === undefined) {
    process.stderr.write(`error: no EnvironmentConfig named ${name} in the --environment file\n`);
    return 1;
  }
  for (const claim of claims) process.stdout.write(`${await explainAccess(compositeForClaim(claim), env['data'])}\n`);
  return 0;
}

/**
 * The policy of the platform's shared S3 gateway endpoint (Shared mode: no claim creates it), for
 * the platform team to attach: `aws ec2 modify-vpc-endpoint --policy-document file://...`.
 */
function printEndpointPolicy(environmentFile: string): number {
  const config = readYamlDocuments(environmentFile).find((d) => isObject(d) && d['kind'] === 'EnvironmentConfig');
  if (!isObject(config)) {
    process.stderr.write(`${environmentFile}: no EnvironmentConfig in it\n`);
    return 1;
  }
  const env = readEnvironment(config['data']);
  process.stdout.write(`${endpointPolicy(env, env.region)}\n`);
  return 0;
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
      environment: { type: 'string', default: 'compositions/examples/environment.yaml' },
      composition: { type: 'string', default: 'compositions/composition.yaml' },
      'account-state': { type: 'string' },
      'save-account-state': { type: 'string' },
      delete: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values['endpoint-policy']) return printEndpointPolicy(values.environment);
  if (values.help || positionals.length === 0) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (values.output !== 'yaml' && values.output !== 'json') {
    process.stderr.write(`--output must be yaml or json, not '${values.output}'\n${USAGE}\n`);
    return 2;
  }
  const clusterObjects = readYamlDocuments(values.environment).filter(isObject);
  let input: Json | undefined;
  let requiredResources: RequiredResourceSelector[] = [];
  try {
    input = functionInputFrom(values.composition);
    requiredResources = stepRequirementsFrom(values.composition);
  } catch {
    input = undefined; // no Composition yet: the function falls back to its default input and asks
  }
  const claims = positionals.flatMap((file) => readYamlDocuments(file).map((doc) => asClaim(doc, file)));
  if (values['emit-xr']) {
    // The XR Crossplane creates for each claim: the input upstream `crossplane render` takes.
    for (const claim of claims) process.stdout.write(`---\n${dump(compositeForClaim(claim), { lineWidth: -1 })}`);
    return 0;
  }
  if (values['explain-access']) return explainAccessOf(claims, clusterObjects, input);

  if ((values['save-account-state'] !== undefined || values.delete) && !values.converge) {
    process.stderr.write(`--save-account-state and --delete need --converge: the account holds what the provider applied\n${USAGE}\n`);
    return 2;
  }
  const aws = new FakeAccount(accountOf(clusterObjects), values['account-state'] === undefined ? {} : readAccountState(values['account-state']));
  const fn = await startLocalFunction(runFunction);
  let failed = 0;
  const outputs: Array<{ claim: Claim; rendered: RenderedClaim }> = [];
  try {
    for (const claim of claims) {
      const rendered = await renderClaim(fn.client, claim, { clusterObjects, converge: values.converge, account: aws, deleteAfter: values.delete, requiredResources, ...(input ? { input } : {}) });
      outputs.push({ claim, rendered });
      if (rendered.fatal) {
        failed++;
        process.stderr.write(`error: ${claim.metadata.namespace}/${claim.metadata.name}: ${rendered.fatal}\n`);
      }
    }
  } finally {
    await fn.stop();
  }
  if (values['save-account-state'] !== undefined) writeFileSync(values['save-account-state'], `${JSON.stringify(aws.state, null, 2)}\n`);
  const ok = outputs.filter((o) => !o.rendered.fatal);
  if (values.output === 'json') {
    const asJson = ok.map(({ rendered }) => ({
      resources: Object.entries(rendered.resources).map(([n, r]) => printable(rendered, n, r)),
      status: rendered.status,
      results: rendered.results,
      passes: rendered.passes,
    }));
    process.stdout.write(`${JSON.stringify(asJson.length === 1 ? asJson[0] : asJson, null, 2)}\n`);
  } else {
    for (const { rendered } of ok) {
      for (const [n, r] of Object.entries(rendered.resources)) process.stdout.write(`---\n${dump(printable(rendered, n, r), { lineWidth: -1, noRefs: true })}`);
    }
  }
  if (values.summary) for (const { claim, rendered } of outputs) process.stderr.write(`${summarise(claim, rendered)}\n`);
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`render: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
