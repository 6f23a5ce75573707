// Issue 19, findings 1 and 10, decided by the real apiserver (make e2e, clusters/staging applied as
// Flux would): the ValidatingAdmissionPolicies of clusters/base/admission and their bindings and
// parameters as the cluster holds them, with --dry-run=server so nothing is written. Replaces the
// home-made CEL evaluator (tests/lib/admission.ts) that decided these cases before.
import path from 'node:path';
import { dump } from 'js-yaml';
import { inMesh } from '../../cdk8s/chart.js';
import { s3Hosts } from '../../cdk8s/s3-hosts.js';
import { claimObjects, loadModels } from '../../cdk8s/synth.js';
import { getJson, kubectl, requireCluster, type Result } from '../lib/cluster.js';
import { type K8sObject, tenantNames } from '../lib/kustomize.js';
import { repoRoot } from '../lib/repo.js';

const CLUSTER = 'staging';
const GATEWAY_NS = 'istio-system';
const MESH_DENIAL = /ValidatingAdmissionPolicy 'secure-bucket-tenant-mesh' with binding 'secure-bucket-tenant-mesh' denied request/;
const FLUX_ID_DENIAL = /ValidatingAdmissionPolicy 'secure-bucket-tenant-flux-identity' with binding 'secure-bucket-tenant-flux-identity' denied request/;
const tenantUser = (ns: string): string => `system:serviceaccount:${ns}:flux-reconciler`;
// JSON, not structuredClone: under jest its copies come from another realm, which js-yaml refuses to dump.
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

const models = loadModels({ repoRoot }).filter((m) => m.claim.scope === path.join(repoRoot, 'clusters', CLUSTER));
const meshNamespaces = [...new Set(models.filter(inMesh).map((m) => m.identity.claimNamespace))].sort();
const attacker = meshNamespaces[0] as string;
const victimHost = models.filter((m) => m.identity.claimNamespace !== attacker).flatMap((m) => s3Hosts(m.identity, m.spec, m.env))[0] as string;
const ownHost = models.filter((m) => m.identity.claimNamespace === attacker).flatMap((m) => s3Hosts(m.identity, m.spec, m.env))[0] as string;
const meta = (name: string): K8sObject['metadata'] => ({ name, namespace: attacker });
const se = (spec: Record<string, unknown>, apiVersion = 'networking.istio.io/v1', name = 'grab'): K8sObject => ({
  apiVersion,
  kind: 'ServiceEntry',
  metadata: meta(name),
  spec: {
    hosts: [ownHost],
    exportTo: ['.'],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
    ...spec,
  },
});
const dr = (spec: Record<string, unknown>, apiVersion = 'networking.istio.io/v1'): K8sObject => ({
  apiVersion,
  kind: 'DestinationRule',
  metadata: meta('grab'),
  spec: { host: ownHost, exportTo: ['.'], ...spec },
});

type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

/** One request, never persisted: create, replace (an update of the object the cluster holds) or delete. */
function request(op: Operation, obj: K8sObject, as?: string): Result {
  const input = dump(obj);
  const args =
    op === 'CREATE'
      ? ['create', '--dry-run=server', '-f', '-']
      : op === 'UPDATE'
        ? ['replace', '--dry-run=server', '-f', '-']
        : ['delete', '--dry-run=server', '-f', '-'];
  return kubectl(args, { input, ...(as ? { as } : {}) });
}

/** The platform's own object in the attacker's namespace, as the cluster holds it (applied by flux-system/tenants). */
function platformObject(resource: string): K8sObject {
  const list = getJson<{ items: K8sObject[] }>(['get', resource, '-n', attacker, '-l', 'platform.example.org/owned-by=platform']).items;
  const found = list[0];
  if (found === undefined) throw new Error(`no platform ${resource} in ${attacker}`);
  const { metadata } = found;
  // What a tenant would send: the object without server-set fields.
  return {
    ...found,
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      ...(metadata.labels ? { labels: metadata.labels } : {}),
      ...(metadata.annotations ? { annotations: metadata.annotations } : {}),
    },
  };
}

// Istio and Gateway API kinds whose CRDs ../shared/schemas does not hold: a minimal CRD for each, so the
// requests reach authorization and admission (without one kubectl stops at "no matches for kind").
const STUBS: Array<[group: string, version: string, kind: string, plural: string]> = [
  ['networking.istio.io', 'v1alpha3', 'EnvoyFilter', 'envoyfilters'],
  ['networking.istio.io', 'v1', 'WorkloadEntry', 'workloadentries'],
  ['extensions.istio.io', 'v1alpha1', 'WasmPlugin', 'wasmplugins'],
  ['telemetry.istio.io', 'v1', 'Telemetry', 'telemetries'],
  ['security.istio.io', 'v1', 'RequestAuthentication', 'requestauthentications'],
  ['gateway.networking.k8s.io', 'v1', 'HTTPRoute', 'httproutes'],
];

beforeAll(async () => {
  requireCluster();
  const crds = STUBS.map(([group, version, kind, plural]) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    // *.k8s.io groups need the approval annotation; Gateway API's own CRDs carry this one.
    metadata: {
      name: `${plural}.${group}`,
      ...(group.endsWith('.k8s.io') ? { annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/2466' } } : {}),
    },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase() },
      versions: [{ name: version, served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  }));
  const r = kubectl(['apply', '--server-side', '-f', '-'], { input: crds.map((c) => dump(c)).join('---\n') });
  if (r.code !== 0) throw new Error(r.stderr);
  for (const c of crds) kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${c.metadata.name}`]);
  // The policy's type checker and the apiserver's discovery pick up new kinds a moment later.
  await new Promise((resolve) => setTimeout(resolve, 3000));
}, 120_000);

afterAll(() => {
  kubectl(['delete', 'serviceentry', '-n', attacker, 'legit', '--ignore-not-found'], { as: tenantUser(attacker) });
});

test('there is a mesh namespace to attack from and another tenant host to steal', () => {
  expect([attacker, victimHost, ownHost].every((x) => typeof x === 'string' && x.length > 0)).toBe(true);
});

test("finding 1: every Istio object a tenant's Flux applies is updated and deleted through the policy (its creation happened at cluster-up)", () => {
  const istio = ['serviceentries', 'destinationrules', 'peerauthentications']
    .flatMap(
      (r) =>
        getJson<{ items: K8sObject[] }>([
          'get',
          `${r}.networking.istio.io`.replace('peerauthentications.networking', 'peerauthentications.security'),
          '-n',
          attacker,
        ]).items,
    )
    .filter((o) => o.metadata.labels?.['platform.example.org/owned-by'] !== 'platform');
  expect(istio.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceEntry', 'DestinationRule', 'PeerAuthentication']));
  for (const o of istio) {
    const bare = { ...o, metadata: { name: o.metadata.name, namespace: o.metadata.namespace, ...(o.metadata.labels ? { labels: o.metadata.labels } : {}) } };
    for (const op of ['UPDATE', 'DELETE'] as const) {
      const r = request(op, bare, tenantUser(attacker));
      expect({ what: `${op} ${o.kind} ${o.metadata.name}`, code: r.code, stderr: r.stderr }).toEqual({
        what: `${op} ${o.kind} ${o.metadata.name}`,
        code: 0,
        stderr: '',
      });
    }
  }
});

describe("finding 1: tenant Istio objects that reach the gateway, name others' hosts or come in by the side door are refused", () => {
  const stripped = (o: K8sObject): K8sObject => {
    const c = clone(o);
    delete c.metadata.labels;
    return c;
  };
  // Platform objects are read from the cluster when the case runs.
  const cases: Array<[string, Operation, () => K8sObject]> = [
    ['own host exported to istio-system', 'CREATE', () => se({ exportTo: ['.', GATEWAY_NS] })],
    ['exported everywhere', 'CREATE', () => se({ exportTo: ['*'] })],
    ['no exportTo (defaults to every namespace)', 'CREATE', () => se({ exportTo: undefined })],
    [
      "another tenant's bucket host, static endpoint",
      'CREATE',
      () => se({ hosts: [victimHost], resolution: 'STATIC', endpoints: [{ address: '203.0.113.7' }] }),
    ],
    ["another tenant's bucket host, local", 'CREATE', () => se({ hosts: [victimHost] })],
    ['wildcard host', 'CREATE', () => se({ hosts: ['*.s3.us-east-1.amazonaws.com'] })],
    ['static endpoints on its own host', 'CREATE', () => se({ resolution: 'STATIC', endpoints: [{ address: '203.0.113.7' }] })],
    ['workloadSelector', 'CREATE', () => se({ workloadSelector: { labels: { app: 'x' } } })],
    ['older API version, exported to the gateway', 'CREATE', () => se({ exportTo: [GATEWAY_NS] }, 'networking.istio.io/v1alpha3')],
    ['platform ServiceEntry without its label, re-applied', 'UPDATE', () => stripped(platformObject('serviceentries.networking.istio.io'))],
    [
      'platform ServiceEntry narrowed to ["."]',
      'UPDATE',
      () => {
        const o = platformObject('serviceentries.networking.istio.io');
        return { ...o, spec: { ...(o['spec'] as object), exportTo: ['.'] } };
      },
    ],
    ['platform ServiceEntry deleted', 'DELETE', () => platformObject('serviceentries.networking.istio.io')],
    ['platform TLS origination deleted', 'DELETE', () => platformObject('destinationrules.networking.istio.io')],
    ['legit ServiceEntry turned hostile on update', 'UPDATE', () => se({ exportTo: [GATEWAY_NS] }, 'networking.istio.io/v1', 'legit')],
    ['DestinationRule with TLS off', 'CREATE', () => dr({ trafficPolicy: { tls: { mode: 'DISABLE' } } })],
    [
      'DestinationRule with TLS off on 443',
      'CREATE',
      () => dr({ trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'DISABLE' } }] } }),
    ],
    ['DestinationRule tls without mode (DISABLE)', 'CREATE', () => dr({ trafficPolicy: { tls: { sni: ownHost } } })],
    ['tenant TLS origination (SIMPLE)', 'CREATE', () => dr({ trafficPolicy: { tls: { mode: 'SIMPLE', sni: ownHost } } })],
    [
      'tenant TLS origination without certificate checks',
      'CREATE',
      () => dr({ trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'SIMPLE', sni: ownHost, insecureSkipVerify: true } }] } }),
    ],
    ['ISTIO_MUTUAL with insecureSkipVerify', 'CREATE', () => dr({ trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL', insecureSkipVerify: true } } })],
    ["another tenant's host", 'CREATE', () => dr({ host: victimHost })],
    [
      "subset SNI of another tenant's host",
      'CREATE',
      () =>
        dr({
          host: 'istio-egressgateway.istio-system.svc.cluster.local',
          subsets: [{ name: 'x', trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'ISTIO_MUTUAL', sni: victimHost } }] } }],
        }),
    ],
    ['subset with TLS off', 'CREATE', () => dr({ subsets: [{ name: 'x', trafficPolicy: { tls: { mode: 'DISABLE' } } }] })],
    ['DestinationRule exported to the gateway (v1beta1)', 'CREATE', () => dr({ exportTo: ['.', GATEWAY_NS] }, 'networking.istio.io/v1beta1')],
    ['DestinationRule with workloadSelector', 'CREATE', () => dr({ workloadSelector: { matchLabels: { app: 'x' } } })],
    [
      'PeerAuthentication PERMISSIVE',
      'CREATE',
      () => ({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: meta('open'), spec: { mtls: { mode: 'PERMISSIVE' } } }),
    ],
    [
      'PeerAuthentication port-level DISABLE',
      'CREATE',
      () => ({
        apiVersion: 'security.istio.io/v1',
        kind: 'PeerAuthentication',
        metadata: meta('open'),
        spec: { selector: { matchLabels: { app: 'x' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'DISABLE' } } },
      }),
    ],
    [
      'Sidecar',
      'CREATE',
      () => ({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: meta('x'), spec: { outboundTrafficPolicy: { mode: 'ALLOW_ANY' } } }),
    ],
    [
      'Gateway',
      'CREATE',
      () => ({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: meta('x'), spec: { selector: { istio: 'egressgateway' }, servers: [] } }),
    ],
    [
      'VirtualService',
      'CREATE',
      () => ({ apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: meta('x'), spec: { hosts: [victimHost], exportTo: ['.'] } }),
    ],
    ['EnvoyFilter', 'CREATE', () => ({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: meta('x'), spec: {} })],
    ['WorkloadEntry', 'CREATE', () => ({ apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: meta('x'), spec: { address: '203.0.113.7' } })],
    ['WasmPlugin', 'CREATE', () => ({ apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin', metadata: meta('x'), spec: {} })],
    ['Telemetry', 'CREATE', () => ({ apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: meta('x'), spec: {} })],
    ['RequestAuthentication', 'CREATE', () => ({ apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: meta('x'), spec: {} })],
    ['Gateway API HTTPRoute', 'CREATE', () => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: meta('x'), spec: {} })],
  ];

  beforeAll(() => {
    // The object the "turned hostile on update" case updates: created for real by the tenant, and admitted.
    const r = kubectl(['apply', '--server-side', '--field-manager=kustomize-controller', '-f', '-'], {
      as: tenantUser(attacker),
      input: dump(se({}, 'networking.istio.io/v1', 'legit')),
    });
    if (r.code !== 0) throw new Error(`the tenant's own legit ServiceEntry was refused: ${r.stderr}`);
  });

  test.each(cases)('%s (%s): the policy denies it for anyone but the platform, and the tenant is refused', (_why, op, make) => {
    const obj = make();
    // Admin (system:masters) passes RBAC, so this is the policy's decision alone.
    const admin = request(op, obj);
    expect({ code: admin.code === 0 ? 0 : 1, stderr: admin.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(MESH_DENIAL) });
    // The tenant: its RBAC refuses the kinds it may not write at all, the policy the rest.
    const tenant = request(op, obj, tenantUser(attacker));
    expect(tenant.code).not.toBe(0);
    expect(tenant.stderr).toMatch(/denied request|forbidden/i);
    expect(tenant.stderr).not.toMatch(/\(error:|expression.*error|no matches for kind/i);
  });

  test('a tenant namespace outside the mesh has no registered hosts: no ServiceEntry at all', () => {
    const outside = tenantNames(CLUSTER).find((t) => !meshNamespaces.includes(t));
    if (outside === undefined) return;
    const r = request('CREATE', { ...se({}), metadata: { name: 'x', namespace: outside } }, tenantUser(outside));
    expect(r.stderr).toMatch(MESH_DENIAL);
  });
});

describe('finding 10: no pod in a tenant namespace may run as the tenant Flux ServiceAccount', () => {
  const ns = tenantNames(CLUSTER)[0] as string;
  // Restricted Pod Security (the tenant namespaces enforce it) would refuse a plain pod first.
  const restricted = { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } };
  const container = { name: 'c', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } };
  const pod = (spec: Record<string, unknown>, namespace = ns): K8sObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace },
    spec: { ...restricted, containers: [container], ...spec },
  });

  test.each([
    ['serviceAccountName', { serviceAccountName: 'flux-reconciler' }],
    ['serviceAccount (deprecated field)', { serviceAccount: 'flux-reconciler', automountServiceAccountToken: true }],
  ])('under %s, whoever creates it (here cluster admin)', (_field, spec) => {
    expect(request('CREATE', pod(spec)).stderr).toMatch(FLUX_ID_DENIAL);
  });

  test("the example consumers' pods are admitted; outside tenant namespaces the policy does not apply", () => {
    const examples = models
      .filter((m) => m.identity.claimNamespace === ns)
      .flatMap((m) => claimObjects(m).examples as Array<K8sObject & { spec: { template: { spec: Record<string, unknown> } } }>);
    expect(examples.length).toBeGreaterThan(0);
    for (const d of examples) {
      const r = request('CREATE', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ns }, spec: d.spec.template.spec });
      expect({ example: d.metadata.name, stderr: r.stderr }).not.toEqual({ example: d.metadata.name, stderr: expect.stringMatching(FLUX_ID_DENIAL) });
    }
    expect(request('CREATE', pod({ serviceAccountName: 'flux-reconciler' }, 'flux-system')).stderr).not.toMatch(FLUX_ID_DENIAL);
  });
});

// The red team's cases of issue 19 (gaps b, c, d), decided by the real apiserver.
const PLATFORM_USER = 'system:serviceaccount:flux-system:kustomize-controller';
const FLUX_SA_DENIAL = /ValidatingAdmissionPolicy 'secure-bucket-tenant-flux-account' with binding 'secure-bucket-tenant-flux-account' denied request/;
const CLAIMS_DENIAL = /ValidatingAdmissionPolicy 'secure-bucket-claim-delete-policy' with binding 'secure-bucket-claim-delete-policy' denied request/;

describe('red team: the tenant identity may not change or delete its own Flux ServiceAccount; the platform may', () => {
  const ns = tenantNames(CLUSTER)[0] as string;
  const account = (): K8sObject => {
    const sa = getJson<K8sObject>(['get', 'serviceaccount', 'flux-reconciler', '-n', ns]);
    return {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: sa.metadata.name, namespace: ns, ...(sa.metadata.labels ? { labels: sa.metadata.labels } : {}) },
    };
  };
  const edited = (): K8sObject => {
    const sa = account();
    return { ...sa, metadata: { ...sa.metadata, annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/x' } } };
  };

  test.each([
    ['UPDATE', edited],
    ['DELETE', account],
  ] as const)('%s as the tenant is denied by the policy', (op, make) => {
    expect(request(op, make(), tenantUser(ns)).stderr).toMatch(FLUX_SA_DENIAL);
  });

  test('the same UPDATE from the platform stage is admitted, and the tenant keeps its consumer ServiceAccounts', () => {
    expect(request('UPDATE', edited(), PLATFORM_USER).stderr).not.toMatch(FLUX_SA_DENIAL);
    const consumer: K8sObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'red-team-consumer', namespace: ns } };
    const r = request('CREATE', consumer, tenantUser(ns));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  });
});

describe('red team: a tenant AuthorizationPolicy may not hand authorization to an extension provider', () => {
  const ap = (spec: Record<string, unknown>, apiVersion = 'security.istio.io/v1'): K8sObject => ({
    apiVersion,
    kind: 'AuthorizationPolicy',
    metadata: meta('authz'),
    spec,
  });

  test.each([
    ['CUSTOM with a provider', () => ap({ action: 'CUSTOM', provider: { name: 'ext-authz' }, rules: [{}] })],
    ['CUSTOM, v1beta1', () => ap({ action: 'CUSTOM', provider: { name: 'ext-authz' }, rules: [{}] }, 'security.istio.io/v1beta1')],
    ['a provider without action', () => ap({ provider: { name: 'ext-authz' }, rules: [{}] })],
  ])('%s is denied, for the admin and the tenant', (_why, make) => {
    expect(request('CREATE', make()).stderr).toMatch(MESH_DENIAL);
    expect(request('CREATE', make(), tenantUser(attacker)).stderr).toMatch(MESH_DENIAL);
  });

  test.each(['ALLOW', 'DENY', 'AUDIT'])('action %s is admitted for the tenant', (action) => {
    const r = request('CREATE', ap({ action, rules: [{}] }), tenantUser(attacker));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  });
});

describe('red team: a claim with compositeDeletePolicy Background is refused, whoever sends it', () => {
  const ns = tenantNames(CLUSTER)[0] as string;
  const claim = (policy?: string): K8sObject => ({
    apiVersion: 'platform.example.org/v1alpha1',
    kind: 'XSecureBucketClaim',
    metadata: { name: 'red-team-background', namespace: ns },
    spec: { ...(policy ? { compositeDeletePolicy: policy } : {}) },
  });

  test.each([
    ['the admin', undefined],
    ['the tenant', tenantUser(ns)],
    ['the platform', PLATFORM_USER],
  ] as const)('Background from %s is denied', (_who, as) => {
    expect(request('CREATE', claim('Background'), as).stderr).toMatch(CLAIMS_DENIAL);
  });

  test('Foreground and the default are not refused by the policy', () => {
    for (const ok of [undefined, 'Foreground']) expect(request('CREATE', claim(ok), tenantUser(ns)).stderr).not.toMatch(CLAIMS_DENIAL);
  });
});
