// Migration (docs/migrate-to-v2.md): the claim's composed resources set to Orphan, the claim
// deleted, the v2 XR from render --migrate applied against the same AWS account. Nothing is
// deleted in AWS; the XR observes what the claim left, then adopts it under the same AWS names.
import { describe, expect, it } from '@jest/globals';
import { type AccountState, FakeAccount } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { asClaim, compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { migratedXrDocument } from '../../functions/secure-bucket/cli/xr/migrate.js';
import { namespacedXrFor } from '../../functions/secure-bucket/cli/xr/namespaced.js';
import {
  CLAIM_API,
  NAMESPACED_XR_API,
  OTHER_REQUEST,
  OTHER_REQUEST_COMPOSITE,
  OWNER_API_TAG,
  TAKE_OVER_ANNOTATION,
} from '../../functions/secure-bucket/src/core/index.js';
import { ENVIRONMENT_REQUIREMENT, runFunction } from '../../functions/secure-bucket/src/function.js';
import { converge, requestFor, suppliedObjects } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { stepFrom } from '../../functions/secure-bucket/cli/xr/step.js';
import { repoRoot } from '../lib/repo.js';
import path from 'node:path';
import { inProcessFunction } from '../../functions/secure-bucket/cli/control-plane/index.js';
import {
  call,
  desiredResources,
  environmentConfig,
  exampleClaims,
  fatalOf,
  podIdentityDedicatedEndpoint,
  renderPasses,
  type Json,
} from '../lib/function-fixtures.js';

const env = environmentConfig();
const accountId = String((env['data'] as Json)['accountId']);

/** The AWS name of each composed resource: its external name, or the name AWS knows it by. */
function awsNames(resources: Record<string, Json>): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(resources).map(([name, r]) => {
      const ext = ((r['metadata'] as Json)['annotations'] as Record<string, string> | undefined)?.['crossplane.io/external-name'];
      const forProvider = (r['spec'] as Json)['forProvider'] as Json;
      return [name, ext ?? (typeof forProvider['name'] === 'string' ? `name:${forProvider['name']}` : undefined)];
    }),
  );
}

/**
 * Migration steps 4-5: every resource the request composed set to Orphan, then the request deleted.
 * Returns what AWS held just before the deletion.
 */
function deleteLeavingEverything(aws: FakeAccount, compositeName: string, observed: Record<string, Json>): AccountState {
  const provider = aws.providerFor(compositeName);
  provider.reconcile(Object.fromEntries(Object.entries(observed).map(([n, r]) => [n, { ...r, spec: { ...(r['spec'] as Json), deletionPolicy: 'Orphan' } }])));
  const held = structuredClone(aws.state);
  provider.deleteComposite();
  return held;
}

const claimXrName = (claim: ReturnType<typeof exampleClaims>[number]['claim']): string => String((compositeForClaim(claim)['metadata'] as Json)['name']);

describe.each(exampleClaims().map(({ file, claim }) => [file, claim] as const))('migrating %s to a v2 XSecureBucket', (_file, claim) => {
  it('keeps every AWS name, deletes nothing, and observes before it adopts', async () => {
    const aws = new FakeAccount({ accountId, partition: 'aws' });
    const before = await renderPasses(claim, env, { account: aws });
    const claimResources = desiredResources(before.converged);
    // Steps 4-5: every composed resource Orphan, the claim deleted: AWS holds what it held.
    const held = deleteLeavingEverything(aws, claimXrName(claim), before.observedAtConverged);
    expect(aws.state).toEqual(held);

    // Steps 4-5: the migrated XR against the same account.
    const xr = asClaim(migratedXrDocument(claim), 'migrated');
    expect(xr.metadata).toEqual({ ...claim.metadata, annotations: { [TAKE_OVER_ANNOTATION]: CLAIM_API } });
    const after = await renderPasses(xr, env, { account: aws });
    expect(fatalOf(after.converged)).toBeUndefined();
    const observing = desiredResources(after.observing);
    const kept = Object.keys(observing);
    expect(kept).toEqual(expect.arrayContaining(['bucket', 'kms-key', 'bucket-policy']));
    for (const name of kept) expect({ name, policies: (observing[name]!['spec'] as Json)['managementPolicies'] }).toEqual({ name, policies: ['Observe'] });
    const v2Resources = desiredResources(after.converged);
    for (const r of Object.values(v2Resources)) expect((r['spec'] as Json)['managementPolicies']).not.toEqual(['Observe']);
    expect(awsNames(v2Resources)).toEqual(awsNames(claimResources));
    // Everything the claim left is still there (the v2 XR adopted it, deleted nothing).
    for (const [kind, byName] of Object.entries(held))
      expect({ kind, names: Object.keys(aws.state[kind] ?? {}) }).toEqual({ kind, names: expect.arrayContaining(Object.keys(byName)) });
  });
});

/** The claim converged, every composed resource Orphan, the claim deleted: what AWS then holds. */
async function claimLeftBehind(claim: ReturnType<typeof exampleClaims>[number]['claim'], environment: Json = env): Promise<FakeAccount> {
  const aws = new FakeAccount({ accountId, partition: 'aws' });
  const before = await renderPasses(claim, environment, { account: aws });
  expect(fatalOf(before.converged)).toBeUndefined();
  deleteLeavingEverything(aws, claimXrName(claim), before.observedAtConverged);
  return aws;
}

function tagsOf(aws: FakeAccount, kind: string): Array<Record<string, unknown>> {
  return Object.values(aws.state[kind] ?? {}).map((settings) => (settings['tags'] ?? {}) as Record<string, unknown>);
}

// A claim and a v2 XR of one namespace and name render the same AWS names: while both live, both
// would manage one bucket. The tags say which API requested it; only an explicit handover crosses.
describe('a claim and a v2 XR of the same name never both own a bucket', () => {
  const { claim } = exampleClaims()[0]!;

  it('tags the bucket and key with the API that requested them', async () => {
    const aws = await claimLeftBehind(claim);
    for (const kind of ['Bucket', 'Key']) for (const tags of tagsOf(aws, kind)) expect(tags[OWNER_API_TAG]).toBe(CLAIM_API);
  });

  it('refuses a v2 XR without the take-over annotation, naming it, and changes nothing', async () => {
    const aws = await claimLeftBehind(claim);
    const held = structuredClone(aws.state);
    const rendered = await renderPasses(asClaim(namespacedXrFor(claim), 'same-name'), env, { account: aws });
    expect(fatalOf(rendered.converged)).toMatch(
      new RegExp(
        `metadata\\.annotations\\[${TAKE_OVER_ANNOTATION.replace(/[./]/g, '\\$&')}\\].*requested through ${CLAIM_API}.*Fix: .*${TAKE_OVER_ANNOTATION}=${CLAIM_API}`,
      ),
    );
    expect(aws.state).toEqual(held);
  });

  it("after the migration, refuses the old claim re-applied (the bucket is the XR's now)", async () => {
    const aws = await claimLeftBehind(claim);
    const migrated = await renderPasses(asClaim(migratedXrDocument(claim), 'migrated'), env, { account: aws });
    expect(fatalOf(migrated.converged)).toBeUndefined();
    for (const kind of ['Bucket', 'Key']) for (const tags of tagsOf(aws, kind)) expect(tags[OWNER_API_TAG]).toBe(NAMESPACED_XR_API);
    // The XR deleted with everything Orphan (as step 4 would), then the old claim comes back from Git.
    deleteLeavingEverything(aws, claim.metadata.name, migrated.observedAtConverged);
    const held = structuredClone(aws.state);
    const again = await renderPasses(claim, env, { account: aws });
    expect(fatalOf(again.converged)).toMatch(new RegExp(`requested through ${NAMESPACED_XR_API}`));
    expect(aws.state).toEqual(held);
  });

  it("treats a bucket tagged before v2 (no API tag) as a claim's", async () => {
    const aws = await claimLeftBehind(claim);
    for (const kind of ['Bucket', 'Key'])
      for (const settings of Object.values(aws.state[kind] ?? {})) delete (settings['tags'] as Record<string, unknown>)[OWNER_API_TAG];
    expect(fatalOf((await renderPasses(claim, env, { account: copyOfAccount(aws) })).converged)).toBeUndefined();
    expect(fatalOf((await renderPasses(asClaim(namespacedXrFor(claim), 'same-name'), env, { account: copyOfAccount(aws) })).converged)).toMatch(
      /requested through/,
    );
  });

  it('asks Crossplane whether the claim still exists before taking over, and refuses while it does', async () => {
    const aws = await claimLeftBehind(claim);
    const held = structuredClone(aws.state);
    const stillThere = { apiVersion: claim.apiVersion, kind: claim.kind, metadata: claim.metadata, spec: claim.spec };
    let calls = 0;
    const counting = {
      runFunction: (req: Parameters<typeof inProcessFunction.runFunction>[0]) => (calls++, inProcessFunction.runFunction(req)),
      close: () => {},
    };
    const xr = compositeForClaim(asClaim(migratedXrDocument(claim), 'migrated'));
    // As the v2 Composition's step calls it: the EnvironmentConfig declared, so one call per pass.
    const { requiredResources, input } = stepFrom(path.join(repoRoot, 'compositions/composition-v2.yaml'));
    const step = { requiredResources, ...(input ? { input } : {}), converge: true, account: aws };
    const refused = await converge(counting, xr, { clusterObjects: [env, stillThere], ...step });
    expect(refused.fatal).toMatch(
      new RegExp(`requested through ${CLAIM_API} ${claim.metadata.namespace}/${claim.metadata.name}, which still exists.*Fix: .*delete it first`),
    );
    expect(aws.state).toEqual(held);
    // The same claim in another namespace is not it: the lookup is by namespace and name.
    const elsewhere = { ...stillThere, metadata: { ...claim.metadata, namespace: 'team-other' } };
    calls = 0;
    const migrated = await converge(counting, xr, { clusterObjects: [env, elsewhere], ...step });
    expect(migrated.fatal).toBeUndefined();
    // One call per pass; a pass that takes over from the claim (the bucket's, then the key's, as
    // each is reported) asks once more. The converged pass is computed once more to see nothing changes.
    const lookups = migrated.history.filter((p) => p.request.requiredResources?.[OTHER_REQUEST] !== undefined).length;
    expect(lookups).toBeGreaterThanOrEqual(1);
    expect(lookups).toBeLessThanOrEqual(2);
    // The extra pass after convergence made one call: once taken over, no reconcile asks again.
    expect(calls).toBe(migrated.history.length + 1 + lookups);
  });

  it('refuses while the claim is gone but its XR is still being deleted (what it composes could still go)', async () => {
    const aws = await claimLeftBehind(claim);
    const held = structuredClone(aws.state);
    const claimXr = compositeForClaim(claim);
    const xr = compositeForClaim(asClaim(migratedXrDocument(claim), 'migrated'));
    const refused = await converge(inProcessFunction, xr, { clusterObjects: [env, claimXr], converge: true, account: aws });
    expect(refused.fatal).toMatch(/which still exists/);
    expect(aws.state).toEqual(held);
  });

  it('refuses the migration on a cluster with a dedicated endpoint per bucket (its endpoint has no name to adopt), the account untouched', async () => {
    const dedicated = environmentConfig(podIdentityDedicatedEndpoint);
    const aws = await claimLeftBehind(claim, dedicated);
    const held = structuredClone(aws.state);
    const rendered = await renderPasses(asClaim(migratedXrDocument(claim), 'migrated'), dedicated, { account: aws });
    expect(fatalOf(rendered.converged)).toMatch(/cannot move to .* on a cluster with a dedicated S3 endpoint per bucket.*Fix: keep /);
    expect(aws.state).toEqual(held);
  });

  it('refuses a take-over annotation that names its own API or anything else', async () => {
    for (const value of [NAMESPACED_XR_API, 'Bucket.s3.aws.upbound.io']) {
      const xr = asClaim(
        {
          ...migratedXrDocument(claim),
          metadata: { name: claim.metadata.name, namespace: claim.metadata.namespace, annotations: { [TAKE_OVER_ANNOTATION]: value } },
        },
        'bad',
      );
      const rendered = await renderPasses(xr, env, { account: new FakeAccount({ accountId, partition: 'aws' }) });
      expect(fatalOf(rendered.converged)).toMatch(
        new RegExp(`^metadata\\.annotations\\[.*'${value.replace(/\./g, '\\.')}' is not the other bucket API.*Fix: set it to ${CLAIM_API}`),
      );
    }
  });
});

function copyOfAccount(aws: FakeAccount): FakeAccount {
  return new FakeAccount({ accountId, partition: 'aws' }, aws.state);
}

// Both requests created at once: each sees the bucket absent and takes it over, then each overwrites
// the other's tags. The fake provider writes before it reports, so the race is shown by what the
// provider then reports to one of them: the other's tags on a bucket it manages.
describe('a claim and a v2 XR of the same name both managing one bucket', () => {
  const { claim } = exampleClaims()[0]!;

  async function convergedClaim(): Promise<Record<string, Json>> {
    return (await renderPasses(claim, env, { account: new FakeAccount({ accountId, partition: 'aws' }) })).observedAtConverged;
  }

  function withBucketTags(observed: Record<string, Json>, tags: Record<string, string>): Record<string, Json> {
    const bucket = structuredClone(observed['bucket']!);
    const atProvider = (bucket['status'] as Json)['atProvider'] as Json;
    atProvider['tags'] = { ...(atProvider['tags'] as Json), ...tags };
    return { ...observed, bucket };
  }

  it("the claim is refused once AWS reports the v2 XR's tags on the bucket it manages", async () => {
    const observed = withBucketTags(await convergedClaim(), { [OWNER_API_TAG]: NAMESPACED_XR_API });
    const rsp = await call({ composite: compositeForClaim(claim), environment: env, observed });
    expect(fatalOf(rsp)).toMatch(
      new RegExp(
        `was requested through ${NAMESPACED_XR_API} ${claim.metadata.namespace}/${claim.metadata.name}, and this is ${CLAIM_API}.*while both exist both would manage it`,
      ),
    );
  });

  it("a migrated XR on the claim's tags asks again, and is refused if the claim is back", async () => {
    const aws = await claimLeftBehind(claim);
    const xr = compositeForClaim(asClaim(migratedXrDocument(claim), 'migrated'));
    const migrated = await converge(inProcessFunction, xr, { clusterObjects: [env], converge: true, account: aws });
    expect(fatalOf(migrated.history.at(-1)!.response)).toBeUndefined();
    // The claim re-applied and its provider re-tagged the bucket before the XR's provider did.
    const observed = withBucketTags(migrated.observed, { [OWNER_API_TAG]: CLAIM_API });
    const envSupplied = { [ENVIRONMENT_REQUIREMENT]: suppliedObjects([env]) };
    const first = await runFunction(requestFor(xr, observed, { supplied: envSupplied }));
    expect(Object.keys(first.requirements?.resources ?? {}).sort()).toEqual([OTHER_REQUEST_COMPOSITE, OTHER_REQUEST, ENVIRONMENT_REQUIREMENT].sort());
    const claimBack = { apiVersion: claim.apiVersion, kind: claim.kind, metadata: claim.metadata, spec: claim.spec };
    const answered = await runFunction(
      requestFor(xr, observed, { supplied: { ...envSupplied, [OTHER_REQUEST]: suppliedObjects([claimBack]), [OTHER_REQUEST_COMPOSITE]: suppliedObjects([]) } }),
    );
    expect(fatalOf(answered)).toMatch(/which still exists/);
    // While the claim stays gone, the XR keeps it until its provider re-tags the bucket.
    const gone = await runFunction(
      requestFor(xr, observed, { supplied: { ...envSupplied, [OTHER_REQUEST]: suppliedObjects([]), [OTHER_REQUEST_COMPOSITE]: suppliedObjects([]) } }),
    );
    expect(fatalOf(gone)).toBeUndefined();
  });

  it("a bucket handed over with the namespace tag alone stays this request's once managed", async () => {
    const observed = await convergedClaim();
    const bucket = structuredClone(observed['bucket']!);
    const tags = ((bucket['status'] as Json)['atProvider'] as Json)['tags'] as Record<string, unknown>;
    delete tags['platform.example.org/claim-name'];
    delete tags[OWNER_API_TAG];
    expect(fatalOf(await call({ composite: compositeForClaim(claim), environment: env, observed: { ...observed, bucket } }))).toBeUndefined();
  });

  it('so is a second claim of the same Fixed name (another claim name in the tags)', async () => {
    const observed = withBucketTags(await convergedClaim(), { 'platform.example.org/claim-name': 'twin' });
    expect(fatalOf(await call({ composite: compositeForClaim(claim), environment: env, observed }))).toMatch(
      /carries the tags of .*\/twin: another request manages it too/,
    );
  });

  it("its own tags pass (the migration above covers an XR on the claim's tags)", async () => {
    const observed = await convergedClaim();
    expect(fatalOf(await call({ composite: compositeForClaim(claim), environment: env, observed }))).toBeUndefined();
  });
});
