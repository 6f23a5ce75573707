// Migration (docs/migrate-to-v2.md): the claim's composed resources set to Orphan, the claim
// deleted, the v2 XR from render --migrate applied against the same AWS account. Nothing is
// deleted in AWS; the XR observes what the claim left, then adopts it under the same AWS names.
import { describe, expect, it } from '@jest/globals';
import { FakeAccount } from '../../functions/secure-bucket/cli/control-plane/fake-provider.js';
import { asClaim, compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/composite.js';
import { migratedXrDocument } from '../../functions/secure-bucket/cli/xr/migrate.js';
import { desiredResources, environmentConfig, exampleClaims, fatalOf, renderPasses, type Json } from '../lib/function-fixtures.js';

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

describe.each(exampleClaims().map(({ file, claim }) => [file, claim] as const))('migrating %s to a v2 XSecureBucket', (_file, claim) => {
  it('keeps every AWS name, deletes nothing, and observes before it adopts', async () => {
    const aws = new FakeAccount({ accountId, partition: 'aws' });
    const before = await renderPasses(claim, env, { account: aws });
    const claimResources = desiredResources(before.converged);
    // Step 2: every composed resource Orphan; step 3: delete the claim.
    const provider = aws.providerFor(String((compositeForClaim(claim)['metadata'] as Json)['name']));
    const orphaned = Object.fromEntries(Object.entries(before.observedAtConverged).map(([n, r]) => [n, { ...r, spec: { ...(r['spec'] as Json), deletionPolicy: 'Orphan' } }]));
    provider.reconcile(orphaned);
    const held = structuredClone(aws.state);
    provider.deleteComposite();
    expect(aws.state).toEqual(held);

    // Steps 4-5: the migrated XR against the same account.
    const xr = asClaim(migratedXrDocument(claim), 'migrated');
    expect(xr.metadata).toEqual(claim.metadata);
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
    for (const [kind, byName] of Object.entries(held)) expect({ kind, names: Object.keys(aws.state[kind] ?? {}) }).toEqual({ kind, names: expect.arrayContaining(Object.keys(byName)) });
  });
});
