// The mesh is on in both clusters: every object cdk8s generates for a mesh namespace is applied by
// the cluster's Flux chain, by the right owner (tenants may not create Sidecars, Gateways or
// VirtualServices, so the platform's `tenants` stage applies those), and validates against the
// Istio CRDs in shared/schemas (unknown fields rejected).
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { inMesh } from '../../cdk8s/chart.js';
import { claimObjects, loadModels, namespaceObjects, platformMeshObjects, type Model } from '../../cdk8s/synth.js';
import { repoRoot } from '../lib/repo.js';
import { getSchemaRegistry } from '../lib/schema-validator.js';
import { type K8sObject, appliedObjects, clusterNames, groupOf, objectKey } from '../lib/kustomize.js';

/** The kinds only the platform applies (no tenant rights). */
const PLATFORM_KINDS = ['Sidecar', 'Gateway', 'VirtualService'];
const isIstio = (o: K8sObject) => groupOf(o.apiVersion).endsWith('.istio.io');

/** What cdk8s generates for the cluster's mesh namespaces, computed here from the claims. */
function expectedMesh(cluster: string): { configured: string[]; namespaces: string[]; platform: K8sObject[]; tenant: K8sObject[] } {
  const models = loadModels({ repoRoot }).filter((m) => m.claim.scope === path.join(repoRoot, 'clusters', cluster));
  const byNamespace = new Map<string, Model[]>();
  for (const m of models.filter(inMesh)) byNamespace.set(m.identity.claimNamespace, [...(byNamespace.get(m.identity.claimNamespace) ?? []), m]);
  const platform: K8sObject[] = [];
  const tenant: K8sObject[] = [];
  for (const [ns, group] of byNamespace) {
    platform.push(...(platformMeshObjects(ns, group) as K8sObject[]));
    tenant.push(...(namespaceObjects(ns, group) as K8sObject[]), ...group.flatMap((m) => claimObjects(m).objects as K8sObject[]).filter(isIstio));
  }
  const configured = Object.keys(models[0]?.network.mesh.namespaces ?? {}).sort();
  return { configured, namespaces: [...byNamespace.keys()].sort(), platform, tenant };
}

describe.each(clusterNames().map((c) => [c]))('cluster %s: the mesh', (cluster) => {
  const applied = appliedObjects(cluster);
  const expected = expectedMesh(cluster);
  const stageOf = new Map(applied.map(({ stage, object }) => [objectKey(object), stage.id]));
  const appliedIstio = applied.filter(({ object }) => isIstio(object));

  it('is on for at least one tenant namespace, each with claims (a namespace without would be a silent no-op)', () => {
    expect(expected.namespaces.length).toBeGreaterThan(0);
    expect(expected.namespaces).toEqual(expected.configured);
    const tenantNamespaces = applied
      .filter(({ stage, object }) => stage.id === 'flux-system/tenants' && object.kind === 'Namespace')
      .map(({ object }) => object.metadata.name);
    for (const ns of expected.namespaces) expect(tenantNamespaces).toContain(ns);
  });

  it('the platform-owned objects (Sidecar, Gateway, VirtualService) are applied by flux-system/tenants, as generated', () => {
    expect(expected.platform.map((o) => o.kind)).toEqual(expect.arrayContaining(PLATFORM_KINDS));
    for (const o of expected.platform) {
      expect({ object: objectKey(o), stage: stageOf.get(objectKey(o)) }).toEqual({ object: objectKey(o), stage: 'flux-system/tenants' });
      expect(applied.find(({ object }) => objectKey(object) === objectKey(o))?.object).toEqual(o);
    }
  });

  it("the tenant's mesh objects are applied by the namespace's own Kustomization", () => {
    expect(expected.tenant.map((o) => o.kind)).toEqual(
      expect.arrayContaining(['PeerAuthentication', 'AuthorizationPolicy', 'ServiceEntry', 'DestinationRule']),
    );
    for (const o of expected.tenant) {
      const ns = o.metadata.namespace as string;
      expect({ object: objectKey(o), stage: stageOf.get(objectKey(o)) }).toEqual({ object: objectKey(o), stage: `${ns}/secure-buckets` });
    }
  });

  it('nothing else Istio is applied: no leftover route, no Istio object outside the mesh namespaces', () => {
    const wanted = new Set([...expected.platform, ...expected.tenant].filter(isIstio).map(objectKey));
    expect(appliedIstio.map(({ object }) => objectKey(object)).sort()).toEqual([...wanted].sort());
  });

  it('each mesh namespace has one namespace-wide REGISTRY_ONLY Sidecar and STRICT mTLS', () => {
    for (const ns of expected.namespaces) {
      const sidecars = appliedIstio.filter(({ object }) => object.kind === 'Sidecar' && object.metadata.namespace === ns).map(({ object }) => object['spec']);
      expect({ ns, sidecars }).toEqual({ ns, sidecars: [{ outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }] });
      const peer = appliedIstio
        .filter(({ object }) => object.kind === 'PeerAuthentication' && object.metadata.namespace === ns)
        .map(({ object }) => object['spec']);
      expect({ ns, peer }).toEqual({ ns, peer: [{ mtls: { mode: 'STRICT' } }] });
    }
  });

  it('every applied Istio object validates against shared/schemas/istio (unknown fields rejected)', () => {
    const registry = getSchemaRegistry();
    for (const kind of PLATFORM_KINDS) expect(registry.originOf('networking.istio.io/v1', kind)).toMatch(/^shared\/schemas\/istio\//);
    expect(appliedIstio.flatMap(({ object }) => registry.validate(object).errors)).toEqual([]);
  });
});

describe('the Istio validation can fail', () => {
  const registry = getSchemaRegistry();
  const sidecar = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name: 'default', namespace: 'team-sales' },
    spec: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } },
  };

  it('rejects an unknown field and a value outside the enum', () => {
    expect(registry.validate(sidecar).errors).toEqual([]);
    expect(registry.validate({ ...sidecar, spec: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY', modee: 'x' } } }).errors).toEqual([
      'Sidecar/default: /spec/outboundTrafficPolicy must NOT have additional properties: unknown field "modee"',
    ]);
    expect(registry.validate({ ...sidecar, spec: { outboundTrafficPolicy: { mode: 'ALLOW_ALL' } } }).errors).toEqual([
      'Sidecar/default: /spec/outboundTrafficPolicy/mode must be equal to one of the allowed values: ["REGISTRY_ONLY","ALLOW_ANY"]',
    ]);
  });

  it('rejects a Gateway server with a misspelt field and a VirtualService route of the wrong type', () => {
    const gateway = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'g' },
      spec: { selector: { istio: 'egressgateway' }, servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['a.example'], tsl: {} }] },
    };
    expect(registry.validate(gateway).errors).toEqual(['Gateway/g: /spec/servers/0 must NOT have additional properties: unknown field "tsl"']);
    const vs = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'v' },
      spec: { hosts: ['a.example'], http: [{ route: { destination: { host: 'a.example' } } }] },
    };
    expect(registry.validate(vs).errors).toEqual(['VirtualService/v: /spec/http/0/route must be array']);
  });
});
