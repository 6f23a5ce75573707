// The response cache (issue 24): the function is pure, so a request already answered gets the same
// bytes again; the normalised key drops only fields the function never reads; the cache stays
// within its byte bound. And the codec under it (wire.ts) is byte for byte the SDK's.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { RunFunctionRequest, RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { runFunctionSync, CONVERGED_TTL_SECONDS } from '../../functions/secure-bucket/src/function.js';
import { createFunctionServer, listen, shutdownGracefully } from '../../functions/secure-bucket/src/server.js';
import { ResponseCache, prometheusText } from '../../functions/secure-bucket/src/response-cache.js';
import {
  normalisedKey,
  normaliseRequest,
  VOLATILE_COMPOSITE_STATUS,
  VOLATILE_CONDITION_FIELDS,
  VOLATILE_METADATA,
} from '../../functions/secure-bucket/src/request-key.js';
import { decodeRequest, encodeRequestForKey, encodeResponse } from '../../functions/secure-bucket/src/wire.js';
import { rawClient, type RawClient } from '../../tools/grpc-load.js';
import { batchPayloads, exampleRequests } from '../../tools/workload.js';

type Obj = Record<string, unknown>;
const sdkEncode = (rsp: RunFunctionResponse): Buffer => Buffer.from(RunFunctionResponse.encode(rsp).finish());
const encodeReq = (req: RunFunctionRequest): Buffer => Buffer.from(RunFunctionRequest.encode(req).finish());
/** A fresh copy through the wire, so no test shares objects with another. */
const copy = (req: RunFunctionRequest): RunFunctionRequest => RunFunctionRequest.decode(encodeReq(req));
/** What the function answers, as bytes, with no cache anywhere. */
const render = (req: RunFunctionRequest): Buffer => sdkEncode(runFunctionSync(copy(req)));

let steady: Array<{ name: string; request: RunFunctionRequest }>;
beforeAll(async () => {
  steady = await exampleRequests();
}, 60_000);

describe('purity: the function gives the same bytes for the same request', () => {
  it('renders every example steady-state request twice to identical bytes, with a converged TTL', () => {
    for (const { name, request } of steady) {
      const first = render(request);
      const second = render(request);
      expect([name, first.equals(second)]).toEqual([name, true]);
      expect([name, RunFunctionResponse.decode(first).meta?.ttl?.seconds]).toEqual([name, CONVERGED_TTL_SECONDS]);
    }
  });

  it('does not depend on the order of calls (another XR rendered in between changes nothing)', () => {
    const [a, b] = steady;
    const alone = render(a!.request);
    render(b!.request);
    expect(render(a!.request).equals(alone)).toBe(true);
  });
});

/** Every place a volatile field may sit in a steady-state request, set to a value that changes each poll. */
function withVolatileFields(req: RunFunctionRequest, poll: number): RunFunctionRequest {
  const out = copy(req);
  // Only where the field's parent exists: an added empty status would be a real difference.
  const stamp = (o: unknown): void => {
    const r = o as Obj;
    const metadata = r['metadata'] as Obj | undefined;
    if (metadata) {
      metadata['resourceVersion'] = String(1000 + poll);
      metadata['generation'] = poll;
      metadata['creationTimestamp'] = `2026-01-0${1 + (poll % 9)}T00:00:00Z`;
      metadata['managedFields'] = [{ manager: 'crossplane', operation: 'Apply', time: `2026-01-01T00:00:0${poll % 10}Z`, fieldsV1: { 'f:spec': {} } }];
    }
    const status = r['status'] as Obj | undefined;
    const conditions = (Array.isArray(status?.['conditions']) ? status['conditions'] : []) as Obj[];
    for (const c of conditions) {
      c['lastTransitionTime'] = `2026-01-01T00:0${poll % 10}:00Z`;
      c['observedGeneration'] = poll;
    }
  };
  stamp(out.observed!.composite!.resource);
  const xrStatus = ((out.observed!.composite!.resource as Obj)['status'] ??= {}) as Obj;
  xrStatus['conditions'] = [
    { type: 'Ready', status: poll % 2 ? 'True' : 'False', reason: poll % 2 ? 'Available' : 'Creating', message: `Unready resources: ${poll}` },
  ];
  xrStatus['claimConditionTypes'] = poll % 2 ? ['SecureBucketComplete'] : [];
  for (const r of Object.values(out.observed!.resources)) stamp(r.resource);
  for (const group of Object.values(out.requiredResources)) for (const item of group.items) stamp(item.resource);
  return out;
}

describe('the normalised key drops only what the function never reads', () => {
  it('names the fields it drops', () => {
    expect([...VOLATILE_METADATA]).toEqual(['resourceVersion', 'managedFields', 'generation', 'creationTimestamp']);
    expect([...VOLATILE_CONDITION_FIELDS]).toEqual(['lastTransitionTime', 'observedGeneration']);
    expect([...VOLATILE_COMPOSITE_STATUS]).toEqual(['conditions', 'claimConditionTypes']);
  });

  it('each dropped field, changed, leaves the response byte for byte the same (rendered without any normalisation)', () => {
    for (const { name, request } of steady) {
      const base = render(request);
      for (const poll of [1, 2, 7]) {
        const changed = withVolatileFields(request, poll);
        expect(encodeReq(changed).equals(encodeReq(request))).toBe(false);
        // The response carries the request's tag; the requests share one, so bytes compare whole.
        expect([name, poll, render(changed).equals(base)]).toEqual([name, poll, true]);
      }
    }
  });

  it('gives requests that differ only in those fields one key', () => {
    for (const { request } of steady) {
      const keys = [1, 2, 3].map((poll) => {
        const req = withVolatileFields(request, poll);
        normaliseRequest(req);
        return normalisedKey(req);
      });
      expect(new Set(keys).size).toBe(1);
      // With the XR's status (the steady-state requests have one), the unchanged request too.
      const original = copy(request);
      normaliseRequest(original);
      if ((original.observed!.composite!.resource as Obj)['status'] !== undefined) expect(normalisedKey(original)).toBe(keys[0]);
    }
  });

  it('keeps every field the function reads: changing one changes the key (and the answer)', () => {
    const { request } = steady.find((s) => Object.keys(s.request.observed!.resources).length > 0)!;
    const keyOf = (req: RunFunctionRequest): string => {
      const r = copy(req);
      normaliseRequest(r);
      return normalisedKey(r);
    };
    const base = keyOf(request);
    const firstComposed = Object.keys(request.observed!.resources)[0]!;
    const mutations: Record<string, (r: RunFunctionRequest) => void> = {
      'XR spec': (r) => (((r.observed!.composite!.resource as Obj)['spec'] as Obj)['retentionDays'] = 4242),
      'XR label': (r) => ((((r.observed!.composite!.resource as Obj)['metadata'] as Obj)['labels'] as Obj)['crossplane.io/claim-name'] = 'other'),
      'XR uid': (r) => (((r.observed!.composite!.resource as Obj)['metadata'] as Obj as Obj)['uid'] = 'another-uid'),
      'XR annotation': (r) =>
        (((r.observed!.composite!.resource as Obj)['metadata'] as Obj as Obj)['annotations'] = { 'platform.example.org/take-over-from': 'x' }),
      'XR status other than conditions': (r) => ((((r.observed!.composite!.resource as Obj)['status'] ??= {}) as Obj)['bucketName'] = 'changed'),
      'composed resource condition status': (r) =>
        ((((r.observed!.resources[firstComposed]!.resource as Obj)['status'] ??= {}) as Obj)['conditions'] = [
          { type: 'Synced', status: 'False', reason: 'ReconcileError', message: 'boom' },
        ]),
      'composed resource atProvider': (r) =>
        ((((r.observed!.resources[firstComposed]!.resource as Obj)['status'] ??= {}) as Obj)['atProvider'] = { arn: 'arn:aws:s3:::changed' }),
      'composed resource deletionTimestamp': (r) =>
        ((((r.observed!.resources[firstComposed]!.resource as Obj)['metadata'] ??= {}) as Obj)['deletionTimestamp'] = '2026-01-01T00:00:00Z'),
      'environment data': (r) => {
        const env = Object.values(r.requiredResources)[0]!.items[0]!.resource as Obj;
        (env['data'] as Obj)['clusterName'] = 'another-cluster';
      },
      'step input': (r) => (r.input = { ...(r.input ?? {}), environmentConfigName: 'another' }),
      'desired state from earlier steps': (r) =>
        (r.desired = { composite: undefined, resources: { extra: { resource: { kind: 'X' }, connectionDetails: {}, ready: 0 } } }),
    };
    for (const [what, mutate] of Object.entries(mutations)) {
      const changed = copy(request);
      mutate(changed);
      expect([what, keyOf(changed) === base]).toEqual([what, false]);
    }
  });
});

describe('the server with the cache', () => {
  let server: grpc.Server;
  let client: RawClient;
  let cache: ResponseCache;
  beforeAll(async () => {
    cache = new ResponseCache(8 * 1024 * 1024);
    server = createFunctionServer({ handle: async (req) => runFunctionSync(req), cache });
    const port = await listen(server, '127.0.0.1:0', grpc.ServerCredentials.createInsecure());
    client = rawClient(`127.0.0.1:${port}`, { ownConnection: true });
  });
  afterAll(async () => {
    client.close();
    await shutdownGracefully(server, 1000);
  });

  it('answers a repeated request from the cache with the bytes the function gives', async () => {
    const { request } = steady[0]!;
    const before = cache.stats();
    const first = await client.call(encodeReq(request));
    const second = await client.call(encodeReq(request));
    expect(first.equals(render(request))).toBe(true);
    expect(second.equals(first)).toBe(true);
    const after = cache.stats();
    expect([after.misses - before.misses, after.hits - before.hits]).toEqual([1, 1]);
  });

  it('answers a request differing only in volatile fields by the normalised key, with its own tag', async () => {
    const { request } = steady[1]!;
    await client.call(encodeReq(request));
    const changed = withVolatileFields(request, 3);
    changed.meta = { tag: 'poll-3', capabilities: [] };
    const before = cache.stats();
    const rsp = await client.call(encodeReq(changed));
    expect(cache.stats().normalisedHits - before.normalisedHits).toBe(1);
    const expected = runFunctionSync(copy(changed));
    expect(rsp.equals(sdkEncode(expected))).toBe(true);
    expect(RunFunctionResponse.decode(rsp).meta?.tag).toBe('poll-3');
  });

  it('keeps only answers the function marks as lasting: a first pass (provider values pending) is not kept', async () => {
    const [first] = await batchPayloads(process.cwd(), 1);
    expect(RunFunctionResponse.decode(render(RunFunctionRequest.decode(first!))).meta?.ttl?.seconds).toBe(60);
    const before = cache.stats();
    await client.call(first!);
    await client.call(first!);
    const after = cache.stats();
    expect([after.misses - before.misses, after.hits - before.hits, after.entries - before.entries]).toEqual([2, 0, 0]);
  });

  it('answers an exact repeat of a re-tagged request with its own tag', async () => {
    const changed = withVolatileFields(steady[1]!.request, 5);
    changed.meta = { tag: 'poll-5', capabilities: [] };
    const first = await client.call(encodeReq(changed));
    const again = await client.call(encodeReq(changed));
    expect(again.equals(first)).toBe(true);
    expect(RunFunctionResponse.decode(again).meta?.tag).toBe('poll-5');
  });

  it('red team: another tenant, a rotated EnvironmentConfig or a planted tag is never answered with a cached answer', async () => {
    const { request } = steady.find((s) => Object.keys(s.request.observed!.resources).length > 0)!;
    await client.call(encodeReq(request));
    const xrMeta = (r: RunFunctionRequest): Obj => (r.observed!.composite!.resource as Obj)['metadata'] as Obj;
    const firstComposed = Object.keys(request.observed!.resources)[0]!;
    const attacks: Record<string, (r: RunFunctionRequest) => void> = {
      'claim namespace of another tenant': (r) => ((xrMeta(r)['labels'] as Obj)['crossplane.io/claim-namespace'] = 'team-b'),
      'XR namespace of another tenant': (r) => (xrMeta(r)['namespace'] = 'team-b'),
      'XR name': (r) => (xrMeta(r)['name'] = 'other'),
      'rotated EnvironmentConfig setting': (r) => {
        const env = Object.values(r.requiredResources)[0]!.items[0]!.resource as Obj;
        (env['data'] as Obj)['bucketNamePrefix'] = 'rotated';
      },
      'tag planted in AWS on an adopted resource': (r) => {
        const status = ((r.observed!.resources[firstComposed]!.resource as Obj)['status'] ??= {}) as Obj;
        status['atProvider'] = { ...((status['atProvider'] as Obj | undefined) ?? {}), tags: { 'platform.example.org/installation': 'other' } };
      },
      'take-over annotation': (r) => (((xrMeta(r)['annotations'] ??= {}) as Obj)['platform.example.org/take-over-from'] = 'team-a/x'),
    };
    for (const [what, mutate] of Object.entries(attacks)) {
      const changed = copy(request);
      mutate(changed);
      changed.meta = { tag: `rt-${what}`, capabilities: [] };
      // Twice: the second may come from the cache; both are what the function answers uncached.
      for (let i = 0; i < 2; i++) expect([what, i, (await client.call(encodeReq(changed))).equals(render(changed))]).toEqual([what, i, true]);
    }
  });

  it('exposes its figures as Prometheus text', () => {
    const text = prometheusText(cache.stats());
    expect(text).toMatch(/^function_response_cache_lookups_total\{result="hit"\} [1-9]/m);
    expect(text).toMatch(/^function_response_cache_bytes \d+$/m);
    expect(text).toMatch(/^function_response_cache_hit_ratio 0\.\d+$/m);
  });
});

describe('the cache bound', () => {
  const entry = (n: number) => ({ body: Buffer.alloc(n), tag: '', bodyOffset: 0 });

  it('evicts the least recently used first and never exceeds its bytes', () => {
    const cache = new ResponseCache(3 * 1200);
    cache.set('a', entry(1000));
    cache.set('b', entry(1000));
    cache.set('c', entry(1000));
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('d', entry(1000));
    expect(cache.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => cache.get(k) !== undefined)).toEqual([true, true, true]);
    expect(cache.stats().bytes).toBeLessThanOrEqual(cache.maxBytes);
    expect(cache.stats().evictions).toBe(1);
  });

  it('counts a response kept under two keys once', () => {
    const cache = new ResponseCache(10_000);
    const shared = entry(1000);
    cache.set('exact', { ...shared, answerTag: 'a' });
    cache.set('normalised', shared);
    expect(cache.stats().bytes).toBe(1000 + 2 * 200);
    cache.set('exact', entry(10));
    cache.set('normalised', entry(10));
    expect(cache.stats().bytes).toBe(20 + 2 * 200);
  });

  it('keeps nothing larger than itself', () => {
    const cache = new ResponseCache(1000);
    cache.set('big', entry(5000));
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });
});

describe('wire.ts: the SDK codec, faster', () => {
  let payloads: Buffer[];
  beforeAll(async () => {
    payloads = [...(await batchPayloads(process.cwd(), 40)), ...steady.map((s) => encodeReq(s.request))];
  }, 60_000);

  it('decodes what the SDK decodes and encodes the same bytes as the SDK', () => {
    for (const p of payloads) {
      const ours = decodeRequest(p);
      expect(ours).toEqual(RunFunctionRequest.decode(p));
      const rsp = runFunctionSync(ours);
      expect(encodeResponse(rsp).equals(sdkEncode(rsp))).toBe(true);
    }
  });

  it('handles the Struct edge cases as the SDK does', () => {
    const resource = {
      s: 'ünïcödé ✓ '.repeat(20),
      n: -1.5e300,
      z: 0,
      t: true,
      f: false,
      nul: null,
      list: [1, 'two', null, [], {}, [[{ deep: ['x'] }]]],
      empty: {},
      long: 'x'.repeat(70_000),
    };
    const rsp = RunFunctionResponse.fromPartial({
      meta: { tag: 't', ttl: { seconds: 600, nanos: 5 } },
      desired: { composite: { resource, connectionDetails: { k: Buffer.from('v') }, ready: 2 }, resources: { r: { resource: {} } } },
    });
    const bytes = encodeResponse(rsp);
    expect(bytes.equals(sdkEncode(rsp))).toBe(true);
    const req = RunFunctionRequest.fromPartial({ meta: { tag: 'x' }, observed: { composite: { resource } }, input: resource });
    expect(decodeRequest(encodeReq(req))).toEqual(RunFunctionRequest.decode(encodeReq(req)));
  });

  it('refuses what the SDK refuses: a value protobuf cannot hold, truncated bytes', () => {
    const bad = RunFunctionResponse.fromPartial({ desired: { composite: { resource: { n: 1n as unknown as number } } } });
    expect(() => encodeResponse(bad)).toThrow(/Unsupported any value type: bigint/);
    const p = payloads[0]!;
    expect(() => decodeRequest(p.subarray(0, p.length - 3))).toThrow(/protobuf/);
  });

  it('never sets a prototype from a "__proto__" key', () => {
    // The SDK's encoder drops such a key (Struct.wrap assigns it); ours writes what it is given.
    const req = RunFunctionRequest.fromPartial({ observed: { composite: { resource: JSON.parse('{"__proto__": {"polluted": true}}') as Obj } } });
    const xr = decodeRequest(encodeRequestForKey(req)).observed!.composite!.resource as Obj;
    expect(Object.getPrototypeOf(xr)).toBe(Object.prototype);
    expect(Object.keys(xr)).toEqual(['__proto__']);
  });
});
