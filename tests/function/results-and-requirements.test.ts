// Two adapter contracts with Crossplane v2.3:
// - results and the SecureBucketComplete condition target the XR and the claim
//   (TARGET_COMPOSITE_AND_CLAIM), so `kubectl describe` in the tenant's namespace shows them;
// - the EnvironmentConfig the Composition step declares arrives on the first call, and the
//   function then returns no requirements: one RunFunction call per reconcile. Without the
//   declaration it asks, and restates the same requirement once answered: two calls.
// The call counts come from render's emulation of Crossplane's FetchingFunctionRunner
// (internal/xfn/required_resources.go, v2.3.4), whose own semantics are tested at the end.
import { describe, expect, it } from '@jest/globals';
import { RunFunctionRequest, RunFunctionResponse, Severity, Status, Target } from '@crossplane-org/function-sdk-typescript';
import { DECLARED_ENVIRONMENT_REQUIREMENT, ENVIRONMENT_REQUIREMENT, runFunction } from '../../functions/secure-bucket/src/function.js';
import type { FunctionClient } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { functionInputFrom, stepRequirementsFrom } from '../../functions/secure-bucket/cli/composition.js';
import { reconcileOnce, renderClaim, type RenderOptions } from '../../functions/secure-bucket/cli/control-plane/index.js';
import {
  call,
  desiredResources,
  environmentConfig,
  exampleClaim,
  exampleClaims,
  fatalOf,
  renderPasses,
  withSpec,
  type Json,
} from '../lib/function-fixtures.js';
import { repoRoot } from '../lib/repo.js';

const TENANT = Target.TARGET_COMPOSITE_AND_CLAIM;
const COMPOSITIONS = ['compositions/composition.yaml', 'compositions/composition-v2.yaml'].map((f) => `${repoRoot}/${f}`);

/** What Crossplane receives: the response after a trip over the wire. */
const onTheWire = (rsp: RunFunctionResponse) => RunFunctionResponse.decode(RunFunctionResponse.encode(rsp).finish());
const targetsOf = (rsp: RunFunctionResponse) => ({
  results: onTheWire(rsp).results.map((r) => [r.severity, r.target]),
  conditions: onTheWire(rsp).conditions.map((c) => [c.type, c.target]),
});

describe('results and conditions reach the tenant (TARGET_COMPOSITE_AND_CLAIM)', () => {
  const sales = exampleClaim('sales-events');
  const fatalCases: Array<[string, () => Promise<RunFunctionResponse>, string]> = [
    [
      'an invalid claim',
      () => call({ composite: compositeForClaim(withSpec(sales, (s) => (s['consumers'] = 'x'))), environment: environmentConfig() }),
      'InvalidClaim',
    ],
    ['a missing EnvironmentConfig', () => call({ composite: compositeForClaim(sales), environment: null }), 'EnvironmentMissing'],
    [
      'an incomplete EnvironmentConfig',
      () => call({ composite: compositeForClaim(sales), environment: environmentConfig((d) => delete d['accountId']) }),
      'InvalidEnvironment',
    ],
    ['a bad step input', () => call({ composite: compositeForClaim(sales), input: { environmentConfigName: 'Bad_Name' } }), 'InvalidInput'],
    [
      'a request without a composite',
      () =>
        runFunction(
          RunFunctionRequest.fromPartial({ requiredResources: { [DECLARED_ENVIRONMENT_REQUIREMENT]: { items: [{ resource: environmentConfig() }] } } }),
        ),
      'BadRequest',
    ],
  ];

  it.each(fatalCases)('Fatal for %s', async (_name, run, reason) => {
    const rsp = await run();
    expect(rsp.results.map((r) => r.reason)).toEqual([reason]);
    expect(targetsOf(rsp)).toEqual({ results: [[Severity.SEVERITY_FATAL, TENANT]], conditions: [] });
  });

  it('SecureBucketComplete False while waiting for the provider, True once converged; both targeted', async () => {
    const { first, converged } = await renderPasses(exampleClaim('scratch'));
    for (const [rsp, status] of [
      [first, Status.STATUS_CONDITION_FALSE],
      [converged, Status.STATUS_CONDITION_TRUE],
    ] as const) {
      expect(onTheWire(rsp).conditions.map((c) => [c.type, c.status, c.target])).toEqual([['SecureBucketComplete', status, TENANT]]);
    }
  });

  it("Normal results (the unconfirmed alarm e-mail) are the tenant's to act on: targeted too", async () => {
    const { converged } = await renderPasses(sales);
    const normal = onTheWire(converged).results.filter((r) => r.severity === Severity.SEVERITY_NORMAL);
    expect(normal.map((r) => r.message)).toEqual([expect.stringMatching(/alarm e-mail subscription for sales-oncall@example\.com is .*confirms the e-mail/)]);
    expect(normal.map((r) => r.target)).toEqual([TENANT]);
  });

  it('every result and condition of every pass of every example claim is targeted', async () => {
    let seen = 0;
    for (const { claim } of exampleClaims()) {
      const { observing, first, converged } = await renderPasses(claim);
      for (const rsp of [observing, first, converged]) {
        for (const t of [...onTheWire(rsp).results, ...onTheWire(rsp).conditions]) {
          expect(t.target).toBe(TENANT);
          seen++;
        }
      }
    }
    expect(seen).toBeGreaterThanOrEqual(9);
  });
});

describe('the function and the declared EnvironmentConfig', () => {
  const composite = compositeForClaim(exampleClaim('scratch'));
  const request = (items: Json[], key = DECLARED_ENVIRONMENT_REQUIREMENT, input?: Json) =>
    RunFunctionRequest.fromPartial({
      observed: { composite: { resource: composite } },
      requiredResources: { [key]: { items: items.map((resource) => ({ resource })) } },
      ...(input ? { input } : {}),
    });

  it('declared: renders on the first call and returns no requirements (nothing for Crossplane to fetch again)', async () => {
    const rsp = await runFunction(request([environmentConfig()]));
    expect(fatalOf(rsp)).toBeUndefined();
    expect(Object.keys(desiredResources(rsp)).length).toBeGreaterThan(0);
    expect(rsp.requirements).toBeUndefined();
    // Absent on the wire too: an empty Requirements message would differ from none and cost a call.
    expect(onTheWire(rsp).requirements).toBeUndefined();
  });

  it('declared but not found: Fatal EnvironmentMissing, asking for nothing (asking again would not help)', async () => {
    const rsp = await runFunction(request([]));
    expect(rsp.results.map((r) => r.reason)).toEqual(['EnvironmentMissing']);
    expect(rsp.requirements).toBeUndefined();
  });

  it("declared under another name than the input's environmentConfigName: Fatal naming the input", async () => {
    const other = environmentConfig();
    (other['metadata'] as Json)['name'] = 'another-platform';
    const rsp = await runFunction(request([other]));
    expect(fatalOf(rsp)).toMatch(
      /^input\.environmentConfigName: the step declares EnvironmentConfig "another-platform" .* names secure-bucket-platform\. Fix: /,
    );
    expect(rsp.results[0]?.reason).toBe('InvalidInput');
  });

  it('not declared: asks under its own key, and restates exactly that once answered', async () => {
    const first = await runFunction(RunFunctionRequest.fromPartial({ observed: { composite: { resource: composite } } }));
    const answered = await runFunction(request([environmentConfig()], ENVIRONMENT_REQUIREMENT));
    expect(Object.keys(first.requirements?.resources ?? {})).toEqual([ENVIRONMENT_REQUIREMENT]);
    expect(answered.requirements).toEqual(first.requirements);
    expect(Object.keys(desiredResources(answered)).length).toBeGreaterThan(0);
  });
});

/** The in-process function behind render's client interface, counting calls. */
function countingClient(run: (req: RunFunctionRequest) => Promise<RunFunctionResponse> = runFunction) {
  const client = { calls: 0, runFunction: async (req: RunFunctionRequest) => (client.calls++, run(req)), close: () => {} };
  return client satisfies FunctionClient;
}

describe('one RunFunction call per reconcile when the Composition step declares the EnvironmentConfig', () => {
  const claim = exampleClaim('sales-events');
  const clusterObjects = [environmentConfig()];

  it.each(COMPOSITIONS.map((f) => [f.slice(repoRoot.length + 1), f]))('%s declares it under the key the function reads, with the input name', (_name, file) => {
    const input = functionInputFrom(file);
    expect(stepRequirementsFrom(file)).toEqual([
      {
        requirementName: DECLARED_ENVIRONMENT_REQUIREMENT,
        apiVersion: 'apiextensions.crossplane.io/v1beta1',
        kind: 'EnvironmentConfig',
        name: input?.['environmentConfigName'],
      },
    ]);
  });

  it.each(COMPOSITIONS.map((f) => [f.slice(repoRoot.length + 1), f]))(
    '%s: one call per pass; without the declaration two, with the same output',
    async (_name, file) => {
      const declared = countingClient();
      const asking = countingClient();
      const options: RenderOptions = { clusterObjects, converge: true, input: functionInputFrom(file)! };
      const withDeclaration = await renderClaim(declared, claim, { ...options, requiredResources: stepRequirementsFrom(file) });
      const without = await renderClaim(asking, claim, options);
      expect(withDeclaration.fatal).toBeUndefined();
      // renderClaim runs one more pass than it reports: the one that proves nothing changes.
      expect({ passes: withDeclaration.passes, calls: declared.calls }).toEqual({ passes: withDeclaration.passes, calls: withDeclaration.passes + 1 });
      expect({ passes: without.passes, calls: asking.calls }).toEqual({ passes: without.passes, calls: 2 * (without.passes + 1) });
      expect(without.resources).toEqual(withDeclaration.resources);
      expect(without.status).toEqual(withDeclaration.status);
    },
  );
});

describe("render's requirement loop behaves like Crossplane v2.3's", () => {
  const base = compositeForClaim(exampleClaim('scratch'));
  const options: RenderOptions = { clusterObjects: [environmentConfig()] };
  const asks = (key: string) => ({
    resources: { [key]: { apiVersion: 'apiextensions.crossplane.io/v1beta1', kind: 'EnvironmentConfig', matchName: 'secure-bucket-platform' } },
  });

  it('a function that restates a requirement the declaration already satisfied costs a second call', async () => {
    const client = countingClient(async (req) => ({
      ...(await runFunction(req)),
      requirements: RunFunctionResponse.fromPartial({ requirements: asks(ENVIRONMENT_REQUIREMENT) }).requirements,
    }));
    await reconcileOnce(client, base, { ...options, requiredResources: stepRequirementsFrom(COMPOSITIONS[0]!) });
    expect(client.calls).toBe(2);
  });

  it('a function that stops asking once answered (same key) never stabilises', async () => {
    const client = countingClient(async (req) => {
      const rsp = RunFunctionResponse.fromPartial({});
      if (req.requiredResources[ENVIRONMENT_REQUIREMENT] === undefined)
        rsp.requirements = RunFunctionResponse.fromPartial({ requirements: asks(ENVIRONMENT_REQUIREMENT) }).requirements;
      return rsp;
    });
    await expect(reconcileOnce(client, base, options)).rejects.toThrow(/requirements didn't stabilize after the maximum number of iterations \(5\)/);
    expect(client.calls).toBe(6);
  });

  it('stops at the first Fatal', async () => {
    const client = countingClient();
    const rsp = await reconcileOnce(client, base, { clusterObjects: [], requiredResources: stepRequirementsFrom(COMPOSITIONS[0]!) });
    expect(fatalOf(rsp)).toMatch(/not found/);
    expect(client.calls).toBe(1);
  });
});
