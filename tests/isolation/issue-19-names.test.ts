// Issue 19 (security review), findings 2, 6, 9 and 12: names and adoption are per installation,
// a changed naming setting never moves an XR's names, the inventory prefix is the segment, and a
// take-over waits for its predecessor's composed resources. Findings 2 and 12 run end to end: the
// render CLI drives the real function over gRPC against ONE simulated account.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import type { AccountState } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { composeSecureBucket, INSTALLATION_REGION_TAG, type Json } from '../../functions/secure-bucket/src/core/index.js';
import { environmentConfig, exampleClaim, withSpec } from '../lib/function-fixtures.js';
import { repoRoot } from '../lib/repo.js';

const cli = path.join(repoRoot, 'dist/functions/secure-bucket/cli/render.js');
const dir = mkdtempSync(path.join(tmpdir(), 'issue-19-'));
const SALES = 'compositions/examples/claims/sales-events.yaml';

const render = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
const readState = (where: string) => JSON.parse(readFileSync(where, 'utf8')) as AccountState;
function file(name: string, content: unknown): string {
  const where = path.join(dir, name);
  writeFileSync(where, typeof content === 'string' ? content : JSON.stringify(content));
  return where;
}
/** An --environment file: the example EnvironmentConfig patched, plus any other cluster objects. */
function envFile(name: string, patch: (data: Json) => void, ...objects: Json[]): string {
  return file(name, [environmentConfig(patch), ...objects].map((o) => JSON.stringify(o)).join('\n---\n'));
}
type Doc = { kind: string; metadata: { annotations: Record<string, string> }; spec: { forProvider: Json; managementPolicies?: string[] } };
const docs = (stdout: string) => loadAll(stdout) as Doc[];

/** Every resource of `before` is in `after`, byte for byte: nothing of it was adopted, changed or deleted. */
function untouched(before: AccountState, after: AccountState): void {
  for (const [kind, byName] of Object.entries(before))
    for (const [name, settings] of Object.entries(byName)) expect([kind, name, after[kind]?.[name]]).toEqual([kind, name, settings]);
}

/** The same clusterName in eu-west-1, same account, no installationId (EKS allows it). */
function envEuw(): string {
  return envFile('env-b-euw.yaml', (d) => {
    d['region'] = 'eu-west-1';
    d['bucketNamePrefix'] = 'acme-euw';
    (d['identity'] as Json)['oidcIssuer'] = 'oidc.eks.eu-west-1.amazonaws.com/id/BBBBD539D4633E53DE1B71EXAMPLEBBB';
    d['network'] = { vpcId: 'vpc-0bbbbbbbbbbbbbbbb', endpoint: { mode: 'Shared', id: 'vpce-0bbbbbbbbbbbbbbbb' } };
    d['audit'] = { logBucket: 'acme-euw-s3-access-logs', inventoryBucket: 'acme-euw-s3-inventory' };
    d['alarms'] = { snsTopicArn: 'arn:aws:sns:eu-west-1:111122223333:platform-s3-alerts' };
  });
}

let clusterA: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run 'make build' first`);
  clusterA = path.join(dir, 'cluster-a.json');
  const run = render(['--converge', '--save-account-state', clusterA, SALES]);
  if (run.status !== 0) throw new Error(run.stderr);
});

describe('finding 2: installations sharing one AWS account', () => {
  it('finding 2: a second cluster in the same account adopts nothing of the first', () => {
    // Same account, same bucket prefix, same tenant and claim: only the cluster differs.
    const envB = envFile('env-b.yaml', (d) => {
      d['clusterName'] = 'staging-b';
      d['installationId'] = 'staging-b';
    });
    const afterB = path.join(dir, 'cluster-b.json');
    const run = render(['--converge', '--environment', envB, '--account-state', clusterA, '--save-account-state', afterB, SALES]);
    expect(run.stderr).not.toMatch(/^(error|warning):/m); // notes (passes, pending values) are expected on stderr
    expect(run.status).toBe(0);
    const a = readState(clusterA);
    const b = readState(afterB);
    untouched(a, b);
    // B got its own bucket and access points, none of A's names.
    for (const kind of ['Bucket', 'AccessPoint', 'Role', 'Key']) expect(Object.keys(b[kind] ?? {}).length).toBe(2 * Object.keys(a[kind] ?? {}).length);
    // B's claim deleted: A keeps everything.
    const deleted = path.join(dir, 'cluster-b-deleted.json');
    expect(render(['--converge', '--delete', '--environment', envB, '--account-state', afterB, '--save-account-state', deleted, SALES]).status).toBe(0);
    untouched(a, readState(deleted));
  });

  it('finding 2: a second cluster without its own installationId is refused, naming the setting; the account untouched', () => {
    const envB = envFile('env-b-no-id.yaml', (d) => (d['clusterName'] = 'staging-b'));
    const saved = path.join(dir, 'cluster-b-no-id.json');
    const run = render(['--converge', '--environment', envB, '--account-state', clusterA, '--save-account-state', saved, SALES]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /EnvironmentConfig data\.installationId: s3:\/\/acme-stg-team-sales-sales-events-\w+ already exists in AWS and belongs to installation staging .*Fix: the platform team gives each installation/,
    );
    expect(readState(saved)).toEqual(readState(clusterA));
  });

  it("finding 2: with only the account shared (another bucket prefix, no installationId), the first cluster's access points are refused, never adopted", () => {
    const envB = envFile('env-b-prefix.yaml', (d) => {
      d['clusterName'] = 'staging-b';
      d['bucketNamePrefix'] = 'other';
    });
    const saved = path.join(dir, 'cluster-b-prefix.json');
    const run = render(['--converge', '--environment', envB, '--account-state', clusterA, '--save-account-state', saved, SALES]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /the AccessPoint \d+:team-sales-sales-events-[\w-]+ \(consumer-[\w-]+-access-point\) already exists in AWS on bucket acme-stg-team-sales-sales-events-\w+, not on s3:\/\/other-/,
    );
    untouched(readState(clusterA), readState(saved));
  });

  it("red team: the second cluster's Fixed name equal to the first one's generated bucket is refused", () => {
    const bucketA = Object.keys(readState(clusterA)['Bucket']!)[0]!;
    const envB = envFile('env-b-fixed.yaml', (d) => {
      d['clusterName'] = 'staging-b';
      d['installationId'] = 'staging-b';
    });
    const fixed = withSpec(exampleClaim('sales-events'), (s) => (s['naming'] = { strategy: 'Fixed', name: bucketA }));
    const saved = path.join(dir, 'cluster-b-fixed.json');
    const run = render(['--converge', '--environment', envB, '--account-state', clusterA, '--save-account-state', saved, file('fixed.yaml', fixed)]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`spec.naming.name: s3://${bucketA} already exists in AWS and belongs to installation staging`);
    expect(readState(saved)).toEqual(readState(clusterA));
  });

  // EKS cluster names are unique per region, not per account, and installationId defaults to
  // clusterName: a same-named cluster in another region renders the same role names. Roles (and
  // every kind adopted by a predictable name) are observed first and taken over only when their
  // tags name this installation, its region included: B is refused, naming the setting, and A keeps
  // its roles (trust, policies, existence) byte for byte.
  it("red team: a same-named cluster in another region without installationId leaves the first one's roles alone", () => {
    const a = readState(clusterA);
    // Access points are per region in AWS (the simulated account keys them by account only): B's do not collide.
    const { AccessPoint: _aps, ...withoutAps } = a;
    const start = file('cluster-a-no-aps.json', withoutAps);
    const envB = envEuw();
    const claim = withSpec(exampleClaim('sales-events'), (s) => (s['region'] = 'eu-west-1'));
    const saved = path.join(dir, 'cluster-b-euw.json');
    const run = render(['--converge', '--environment', envB, '--account-state', start, '--save-account-state', saved, file('sales-euw.yaml', claim)]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /EnvironmentConfig data\.installationId: the Role staging-team-sales-sales-events-[\w-]+ \(consumer-[\w-]+-role\) already exists in AWS and belongs to installation staging in us-east-1 .*not to this one \(staging in eu-west-1\).*Fix: the platform team gives each installation/,
    );
    const after = existsSync(saved) ? readState(saved) : readState(start);
    for (const [name, role] of Object.entries(withoutAps['Role'] ?? {})) expect([name, after['Role']?.[name]]).toEqual([name, role]);
    untouched(withoutAps, after);
    // B's claim deleted: nothing of A goes with it.
    const deleted = path.join(dir, 'cluster-b-euw-deleted.json');
    render(['--converge', '--delete', '--environment', envB, '--account-state', start, '--save-account-state', deleted, file('sales-euw.yaml', claim)]);
    untouched(withoutAps, existsSync(deleted) ? readState(deleted) : readState(start));
  });

  it("red team: roles tagged before the region tag existed are judged by their trust: another region's cluster is refused, the first one keeps taking them over", () => {
    // What the first cluster's roles held before upgrading: the installation tag, no region tag.
    const legacy = readState(clusterA);
    delete legacy['AccessPoint'];
    for (const role of Object.values(legacy['Role'] ?? {})) delete (role['tags'] as Json)[INSTALLATION_REGION_TAG];
    const start = file('cluster-a-legacy.json', legacy);
    const claim = withSpec(exampleClaim('sales-events'), (s) => (s['region'] = 'eu-west-1'));
    const saved = path.join(dir, 'cluster-b-euw-legacy.json');
    const run = render([
      '--converge',
      '--environment',
      envEuw(),
      '--account-state',
      start,
      '--save-account-state',
      saved,
      file('sales-euw-legacy.yaml', claim),
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /EnvironmentConfig data\.installationId: the Role staging-team-sales-[\w-]+ \(consumer-[\w-]+-role\) already exists in AWS and belongs to installation staging in another region/,
    );
    untouched(legacy, existsSync(saved) ? readState(saved) : legacy);
    // The first cluster's own request (re-created over them) still takes its roles over.
    const own = render(['--converge', '--account-state', start, SALES]);
    expect(own.stderr).not.toMatch(/^(error|warning):/m);
    expect(own.status).toBe(0);
  });

  it('red team: installation ids that are hyphen-prefixes of each other never share a name', () => {
    const names = (id: string) => {
      const out = composeSecureBucket({
        composite: compositeForClaim(exampleClaim('sales-events')),
        environmentData: environmentConfig((d) => (d['installationId'] = id))['data'],
        observed: {},
      });
      return [out.status.bucketName, ...(out.status.consumers ?? []).map((c) => c.roleArn)];
    };
    const [blue, blue2] = [names('blue'), names('blue-2')];
    for (const n of blue) expect(blue2).not.toContain(n);
  });
});

describe('finding 6: a changed naming setting never moves an XR away from its data', () => {
  const composite = compositeForClaim(exampleClaim('sales-events'));
  const first = composeSecureBucket({ composite, environmentData: environmentConfig()['data'], observed: {} });
  const rendered = { ...composite, status: first.status };
  const again = (patch: (d: Json) => void) => () =>
    composeSecureBucket({ composite: rendered, environmentData: environmentConfig(patch)['data'], observed: {} });

  it.each([
    ['the tenant segment', 'tenants.team-sales.nameSegment', (d: Json) => ((d['tenants'] as Json)['team-sales'] = { nameSegment: 'sales' })],
    ['bucketNamePrefix', 'bucketNamePrefix', (d: Json) => (d['bucketNamePrefix'] = 'acme-new')],
    // A real move to another account renames every ARN too: only the managed-names guard may object.
    ['accountId', 'accountId', (d: Json) => Object.assign(d, JSON.parse(JSON.stringify(d).replaceAll(String(d['accountId']), '999988887777')))],
    ['rolePath', 'identity.rolePath', (d: Json) => ((d['identity'] as Json)['rolePath'] = '/other/')],
    ['installationId', 'installationId', (d: Json) => (d['installationId'] = 'staging-2')],
  ])('finding 6: renaming %s is a Fatal naming the setting, nothing rendered', (_what, field, patch) => {
    expect(again(patch)).toThrow(
      new RegExp(`^EnvironmentConfig data\\.${field.replaceAll('.', '\\.')}: is '[^']+', but team-sales/sales-events manages AWS resources named with`),
    );
  });

  it('finding 6: the same settings render as before', () => {
    expect(again(() => {})().status.bucketName).toBe(first.status.bucketName);
  });

  it('finding 6: a tenant added with a colliding segment: the Fix names the newly added tenant, never the existing one', () => {
    // team-sales has buckets; 'team' is added beside it.
    const added = (d: Json) => (d['tenants'] = { 'team-sales': {}, team: {} });
    expect(again(added)).toThrow(/Fix: give the newly added tenant team its own nameSegment .*never change team-sales's/);
    const existingTeam = compositeForClaim({ ...exampleClaim('scratch'), metadata: { name: 'scratch', namespace: 'team' } });
    const env = (extra: Json) => environmentConfig((d) => ((d['tenants'] as Json) = { team: {}, ...extra }))['data'];
    const teamFirst = composeSecureBucket({ composite: existingTeam, environmentData: env({}), observed: {} });
    const render2 = () =>
      composeSecureBucket({ composite: { ...existingTeam, status: teamFirst.status }, environmentData: env({ 'team-sales': {} }), observed: {} });
    expect(render2).toThrow(/Fix: give the newly added tenant team-sales its own nameSegment/);
    expect(render2).not.toThrow(/give the newly added tenant team /);
  });
});

describe('finding 9: the shared inventory bucket', () => {
  it('finding 9: inventory destination prefix is the registered segment, not the namespace', () => {
    const out = composeSecureBucket({
      composite: compositeForClaim(exampleClaim('sales-events')),
      environmentData: environmentConfig((d) => ((d['tenants'] as Json)['team-sales'] = { nameSegment: 'sales0' }))['data'],
      observed: {},
    });
    // Rendered once the bucket is taken over: converge in process through the observers.
    const inventory = JSON.stringify(out.resources['bucket-inventory'] ?? converged('sales0'));
    expect(inventory).toContain('"prefix":"sales0"');
    expect(inventory).not.toContain('"prefix":"team-sales"');
  });
});

/** The inventory once everything renders: the render CLI, converged, with the segment set. */
function converged(segment: string): Json {
  const env = envFile(`env-seg-${segment}.yaml`, (d) => ((d['tenants'] as Json)['team-sales'] = { nameSegment: segment }));
  const run = render(['--converge', '--environment', env, SALES]);
  expect(run.status).toBe(0);
  return docs(run.stdout).find((d) => d.kind === 'BucketInventory') as unknown as Json;
}

describe("finding 12: a re-created request and its predecessor's composed resources", () => {
  it("finding 12: a re-created claim takes over only once the predecessor's composed resources are gone", () => {
    const deleted = path.join(dir, 'sales-deleted.json');
    expect(render(['--converge', '--delete', '--account-state', clusterA, '--save-account-state', deleted, SALES]).status).toBe(0);
    // Deleted in the background: the old XR is gone, one of its roles is still being garbage collected.
    const roleName = Object.keys(readState(clusterA)['Role']!)[0]!;
    const lingering: Json = {
      apiVersion: 'iam.aws.upbound.io/v1beta1',
      kind: 'Role',
      metadata: {
        name: 'sales-events-old-x7k2p',
        deletionTimestamp: '2026-12-01T00:00:00Z',
        labels: {
          'platform.example.org/claim-namespace': 'team-sales',
          'platform.example.org/claim-name': 'sales-events',
          'crossplane.io/composite': 'sales-events-old',
        },
        annotations: { 'crossplane.io/external-name': roleName },
        ownerReferences: [{ apiVersion: 'platform.example.org/v1alpha1', kind: 'XSecureBucket', name: 'sales-events-old', uid: 'old', controller: true }],
      },
      spec: { deletionPolicy: 'Delete', forProvider: {} },
    };
    const waiting = render(['--converge', '--environment', envFile('env-lingering.yaml', () => {}, lingering), '--account-state', deleted, SALES]);
    expect(waiting.status).toBe(0);
    const held = docs(waiting.stdout);
    expect(held.length).toBeGreaterThan(0);
    for (const d of held) expect([d.kind, d.spec.managementPolicies]).toEqual([d.kind, ['Observe']]);
    // Roles are observed before they are managed (a same-named cluster elsewhere may hold them): an
    // observer writes nothing and, Orphan, deletes nothing beside the predecessor's role.
    for (const d of held.filter((h) => h.kind === 'Role')) expect((d.spec as Json)['deletionPolicy']).toBe('Orphan');
    // Gone: the take-over proceeds.
    const gone = render(['--converge', '--account-state', deleted, SALES]);
    expect(gone.stderr).not.toMatch(/^(error|warning):/m); // notes are expected on stderr
    expect(docs(gone.stdout).map((d) => d.kind)).toContain('Role');
  });
});
