// Issue 19 (security review), findings 1, 10 and 13, proved on what each cluster's Flux applies:
// the admission policies are taken from that build (clusters/base/admission) and their CEL is
// evaluated against the objects tenants apply and against hostile ones.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { dump, load } from 'js-yaml';
import { inMesh } from '../../cdk8s/chart.js';
import { s3Hosts } from '../../cdk8s/s3-hosts.js';
import { claimObjects, loadModels, namespaceObjects, type Model } from '../../cdk8s/synth.js';
import { admit, type AdmissionRequest, type Operation, type Policy, type PolicyBinding, resourceOf } from '../lib/admission.js';
import { type K8sObject, appliedObjects, clusterNames, groupOf, KUSTOMIZATION_FILE, kustomizeBuild, objectKey, reconcileCluster, tenantNames } from '../lib/kustomize.js';
import { repoRoot } from '../lib/repo.js';

const PLATFORM_USER = 'system:serviceaccount:flux-system:kustomize-controller';
const tenantUser = (ns: string) => `system:serviceaccount:${ns}:flux-reconciler`;
const MESH_POLICY = 'secure-bucket-tenant-mesh';
const FLUX_ID_POLICY = 'secure-bucket-tenant-flux-identity';
const FLUX_SA_POLICY = 'secure-bucket-tenant-flux-account';
const CLAIMS_POLICY = 'secure-bucket-claim-delete-policy';
const GATEWAY_NS = 'istio-system';
const clone = <T>(x: T): T => structuredClone(x);

function modelsOf(cluster: string): Model[] {
  return loadModels({ repoRoot }).filter((m) => m.claim.scope === path.join(repoRoot, 'clusters', cluster));
}

/** What cdk8s generates for one tenant's folder (claim objects and namespace-wide mesh objects). */
function generatedForTenant(models: Model[], tenant: string): K8sObject[] {
  const mine = models.filter((m) => m.identity.claimNamespace === tenant);
  const out = mine.flatMap((m) => claimObjects(m).objects as K8sObject[]);
  const mesh = mine.filter(inMesh);
  if (mesh.length > 0) out.push(...(namespaceObjects(tenant, mesh) as K8sObject[]));
  return out;
}

/**
 * Problems of a tenant folder (absolute path) as Flux would build it: a kustomization.yaml may hold
 * only `resources` naming files or folders inside the tenant folder (no replacements, patches,
 * generators, components, helmCharts, namePrefix, remote or outside bases), and every object
 * cdk8s generates must come out exactly as generated, field by field.
 */
function tenantFolderProblems(folder: string, generated: K8sObject[]): string[] {
  const problems: string[] = [];
  const walk = (dir: string): void => {
    const file = path.join(dir, KUSTOMIZATION_FILE);
    for (const alt of ['kustomization.yml', 'Kustomization']) if (existsSync(path.join(dir, alt))) problems.push(`${path.relative(folder, dir) || '.'}/${alt}: use kustomization.yaml only`);
    if (existsSync(file)) {
      const k = (load(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
      const where = path.relative(folder, file);
      for (const key of Object.keys(k)) if (!['apiVersion', 'kind', 'resources'].includes(key)) problems.push(`${where}: '${key}' is not allowed in a tenant folder (only resources)`);
      if (k['kind'] !== undefined && k['kind'] !== 'Kustomization') problems.push(`${where}: kind ${String(k['kind'])} is not allowed`);
      for (const r of (k['resources'] as unknown[] | undefined) ?? []) {
        const target = typeof r === 'string' ? path.resolve(dir, r) : '';
        if (typeof r !== 'string' || /^[a-z]+:\/\//i.test(r) || r.includes('?') || !(target === folder || target.startsWith(folder + path.sep))) {
          problems.push(`${where}: resource ${JSON.stringify(r)} must be a path inside the tenant folder`);
        }
      }
    }
    for (const e of readdirSync(dir)) if (statSync(path.join(dir, e)).isDirectory()) walk(path.join(dir, e));
  };
  walk(folder);
  const built = new Map(kustomizeBuild(folder).map((o) => [objectKey(o), o]));
  for (const want of generated) {
    const have = built.get(objectKey(want));
    if (have === undefined) problems.push(`${objectKey(want)}: generated but not applied`);
    else if (JSON.stringify(sortKeys(have)) !== JSON.stringify(sortKeys(want))) problems.push(`${objectKey(want)}: applied differs from what cdk8s generates`);
  }
  return problems;
}

function sortKeys(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortKeys);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]));
  return x;
}

describe.each(clusterNames().map((c) => [c]))('cluster %s: issue 19', (cluster) => {
  const applied = appliedObjects(cluster);
  const objects = applied.map(({ object }) => object);
  const stageOf = new Map(applied.map(({ stage, object }) => [objectKey(object), stage.id]));
  const models = modelsOf(cluster);
  const meshNamespaces = [...new Set(models.filter(inMesh).map((m) => m.identity.claimNamespace))].sort();
  const tenantObjects = applied.filter(({ stage }) => stage.id.endsWith('/secure-buckets')).map(({ object }) => object);
  const namespaceLabels = (ns: string) => objects.find((o) => o.kind === 'Namespace' && o.metadata.name === ns)?.metadata.labels ?? {};

  const policyPair = (name: string): [Policy, PolicyBinding] => {
    const policy = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy' && o.metadata.name === name);
    const binding = objects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding' && (o as PolicyBinding).spec.policyName === name);
    if (!policy || !binding) throw new Error(`cluster ${cluster}: Flux applies no ValidatingAdmissionPolicy ${name} with a binding`);
    expect(policy.apiVersion).toBe('admissionregistration.k8s.io/v1');
    expect((binding as PolicyBinding).spec.validationActions).toContain('Deny');
    return [policy as Policy, binding as PolicyBinding];
  };

  /** The decision of a policy on `operation` of `obj` by `user` (default: the namespace's tenant). */
  const decide = (name: string, operation: Operation, obj: K8sObject, opts: { old?: K8sObject; user?: string; resource?: AdmissionRequest['resource'] } = {}) => {
    const [policy, binding] = policyPair(name);
    const ns = obj.metadata.namespace as string;
    return admit(
      policy,
      binding,
      {
        operation,
        resource: opts.resource ?? resourceOf(obj),
        kind: obj.kind,
        namespace: ns,
        namespaceLabels: namespaceLabels(ns),
        username: opts.user ?? tenantUser(ns),
        object: operation === 'DELETE' ? null : obj,
        oldObject: operation === 'CREATE' ? null : (opts.old ?? obj),
      },
      objects,
    );
  };
  const denied = (name: string, operation: Operation, obj: K8sObject, opts: Parameters<typeof decide>[3] = {}) => {
    const d = decide(name, operation, obj, opts);
    return { what: `${operation} ${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`, denied: d.matched && !d.allowed, messages: d.messages };
  };

  /** The tenant's Flux ServiceAccount as the platform's tenants stage applies it. */
  const platformAccount = (ns: string): K8sObject => {
    const o = applied.find(({ stage, object }) => stage.id === 'flux-system/tenants' && object.kind === 'ServiceAccount' && object.metadata.namespace === ns && object.metadata.name === 'flux-reconciler');
    if (!o) throw new Error(`no flux-reconciler ServiceAccount in ${ns}`);
    return o.object;
  };
  // The attacker: a mesh namespace; the victim's host: any other tenant's bucket host in this cluster.
  const attacker = meshNamespaces[0] as string;
  const victimHost = models.filter((m) => m.identity.claimNamespace !== attacker).flatMap((m) => s3Hosts(m.identity, m.spec, m.env))[0] as string;
  const ownHost = models.filter((m) => m.identity.claimNamespace === attacker).flatMap((m) => s3Hosts(m.identity, m.spec, m.env))[0] as string;
  const meta = (name: string) => ({ name, namespace: attacker });
  const se = (spec: Record<string, unknown>, apiVersion = 'networking.istio.io/v1'): K8sObject => ({
    apiVersion,
    kind: 'ServiceEntry',
    metadata: meta('grab'),
    spec: { hosts: [ownHost], exportTo: ['.'], location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }], ...spec },
  });
  const dr = (spec: Record<string, unknown>, apiVersion = 'networking.istio.io/v1'): K8sObject => ({ apiVersion, kind: 'DestinationRule', metadata: meta('grab'), spec: { host: ownHost, exportTo: ['.'], ...spec } });
  const platformObject = (kind: string) => {
    const o = applied.find(({ stage, object }) => stage.id === 'flux-system/tenants' && object.kind === kind && object.metadata.namespace === attacker);
    if (!o) throw new Error(`no platform ${kind} in ${attacker}`);
    return o.object;
  };

  it('has a mesh namespace to attack from and another tenant host to steal', () => {
    expect(attacker).toBeDefined();
    expect(victimHost).toBeDefined();
    expect(ownHost).toBeDefined();
  });

  it("finding 1: no object a tenant's Kustomization applies is exported beyond its namespace; every gateway-side object is applied by flux-system/tenants", () => {
    const exported = tenantObjects.filter((o) => groupOf(o.apiVersion).endsWith('.istio.io') && JSON.stringify((o['spec'] as { exportTo?: string[] }).exportTo) !== JSON.stringify(['.']));
    expect(exported.filter((o) => ['ServiceEntry', 'DestinationRule', 'VirtualService'].includes(o.kind)).map(objectKey)).toEqual([]);
    const gatewaySide = objects.filter((o) => ((o['spec'] as { exportTo?: string[] } | undefined)?.exportTo ?? []).includes(GATEWAY_NS) || o.kind === 'Gateway');
    expect(gatewaySide.length).toBeGreaterThan(0);
    for (const o of gatewaySide) expect({ o: objectKey(o), stage: stageOf.get(objectKey(o)) }).toEqual({ o: objectKey(o), stage: 'flux-system/tenants' });
    for (const o of gatewaySide) expect({ o: objectKey(o), owner: o.metadata.labels?.['platform.example.org/owned-by'] }).toEqual({ o: objectKey(o), owner: 'platform' });
  });

  it('finding 1: the admission policy admits every Istio object the tenants apply (create, update, delete), and the platform its own', () => {
    const istio = tenantObjects.filter((o) => groupOf(o.apiVersion).endsWith('.istio.io'));
    expect(istio.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceEntry', 'DestinationRule', 'PeerAuthentication']));
    for (const o of istio) {
      for (const op of ['CREATE', 'UPDATE', 'DELETE'] as const) {
        const d = decide(MESH_POLICY, op, o);
        expect({ what: `${op} ${objectKey(o)}`, matched: d.matched, allowed: d.allowed, messages: d.messages }).toEqual({ what: `${op} ${objectKey(o)}`, matched: true, allowed: true, messages: [] });
      }
    }
    const platform = applied.filter(({ stage, object }) => stage.id === 'flux-system/tenants' && groupOf(object.apiVersion).endsWith('.istio.io')).map(({ object }) => object);
    expect(platform.length).toBeGreaterThan(0);
    for (const o of platform) expect(decide(MESH_POLICY, 'CREATE', o, { user: PLATFORM_USER })).toEqual({ matched: false, allowed: true, messages: [] });
  });

  it('finding 1: the admission policy denies tenant Istio objects that reach the gateway, name others\' hosts or come in by the side door', () => {
    const platformSE = platformObject('ServiceEntry');
    const platformDR = platformObject('DestinationRule');
    const stripped = (o: K8sObject) => {
      const c = clone(o);
      delete c.metadata.labels;
      return c;
    };
    const hostile: Array<[string, Operation, K8sObject, Parameters<typeof decide>[3]?]> = [
      ['own host exported to istio-system', 'CREATE', se({ exportTo: ['.', GATEWAY_NS] })],
      ['exported everywhere', 'CREATE', se({ exportTo: ['*'] })],
      ['no exportTo (defaults to every namespace)', 'CREATE', se({ exportTo: undefined })],
      ["another tenant's bucket host, static endpoint", 'CREATE', se({ hosts: [victimHost], resolution: 'STATIC', endpoints: [{ address: '203.0.113.7' }] })],
      ["another tenant's bucket host, local", 'CREATE', se({ hosts: [victimHost] })],
      ['wildcard host', 'CREATE', se({ hosts: ['*.s3.us-east-1.amazonaws.com'] })],
      ['static endpoints on its own host', 'CREATE', se({ resolution: 'STATIC', endpoints: [{ address: '203.0.113.7' }] })],
      ['workloadSelector', 'CREATE', se({ workloadSelector: { labels: { app: 'x' } } })],
      ['older API version, exported to the gateway', 'CREATE', se({ exportTo: [GATEWAY_NS] }, 'networking.istio.io/v1alpha3')],
      ['platform ServiceEntry without its label, re-applied', 'UPDATE', stripped(platformSE), { old: platformSE }],
      ['platform ServiceEntry narrowed to ["."]', 'UPDATE', { ...clone(platformSE), spec: { ...(platformSE['spec'] as object), exportTo: ['.'] } }, { old: platformSE }],
      ['platform ServiceEntry deleted', 'DELETE', platformSE],
      ['platform TLS origination deleted', 'DELETE', platformDR],
      ['legit ServiceEntry turned hostile on update', 'UPDATE', se({ exportTo: [GATEWAY_NS] }), { old: se({}) }],
      ['DestinationRule with TLS off', 'CREATE', dr({ trafficPolicy: { tls: { mode: 'DISABLE' } } })],
      ['DestinationRule with TLS off on 443', 'CREATE', dr({ trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'DISABLE' } }] } })],
      ['DestinationRule tls without mode (DISABLE)', 'CREATE', dr({ trafficPolicy: { tls: { sni: ownHost } } })],
      ['tenant TLS origination (SIMPLE)', 'CREATE', dr({ trafficPolicy: { tls: { mode: 'SIMPLE', sni: ownHost } } })],
      ['ISTIO_MUTUAL with insecureSkipVerify', 'CREATE', dr({ trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL', insecureSkipVerify: true } } })],
      ["another tenant's host", 'CREATE', dr({ host: victimHost })],
      ["subset SNI of another tenant's host", 'CREATE', dr({ host: 'istio-egressgateway.istio-system.svc.cluster.local', subsets: [{ name: 'x', trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'ISTIO_MUTUAL', sni: victimHost } }] } }] })],
      ['subset with TLS off', 'CREATE', dr({ subsets: [{ name: 'x', trafficPolicy: { tls: { mode: 'DISABLE' } } }] })],
      ['DestinationRule exported to the gateway (v1beta1)', 'CREATE', dr({ exportTo: ['.', GATEWAY_NS] }, 'networking.istio.io/v1beta1')],
      ['DestinationRule with workloadSelector', 'CREATE', dr({ workloadSelector: { matchLabels: { app: 'x' } } })],
      ['PeerAuthentication PERMISSIVE', 'CREATE', { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: meta('open'), spec: { mtls: { mode: 'PERMISSIVE' } } }],
      ['PeerAuthentication port-level DISABLE', 'CREATE', { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: meta('open'), spec: { mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'DISABLE' } } } }],
      ['Sidecar', 'CREATE', { apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: meta('x'), spec: { outboundTrafficPolicy: { mode: 'ALLOW_ANY' } } }],
      ['Gateway', 'CREATE', { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: meta('x'), spec: { selector: { istio: 'egressgateway' }, servers: [] } }],
      ['VirtualService', 'CREATE', { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: meta('x'), spec: { hosts: [victimHost], exportTo: ['.'] } }],
      ['EnvoyFilter', 'CREATE', { apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: meta('x'), spec: {} }],
      ['WorkloadEntry', 'CREATE', { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: meta('x'), spec: { address: '203.0.113.7' } }],
      ['WasmPlugin', 'CREATE', { apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin', metadata: meta('x'), spec: {} }],
      ['Telemetry', 'CREATE', { apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: meta('x'), spec: {} }],
      ['RequestAuthentication', 'CREATE', { apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: meta('x'), spec: {} }],
      ['Gateway API HTTPRoute', 'CREATE', { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: meta('x'), spec: {} }],
    ];
    for (const [why, op, obj, opts] of hostile) {
      const d = denied(MESH_POLICY, op, obj, opts);
      expect({ why, errors: d.messages.filter((m) => m.includes("(error:")) }).toEqual({ why, errors: [] });
      expect({ why, ...d, messages: d.messages.length > 0 }).toEqual({ why, what: d.what, denied: true, messages: true });
    }
    // A namespace outside the mesh has no registered hosts: no Istio object at all.
    const outside = tenantNames(cluster).find((t) => !meshNamespaces.includes(t));
    if (outside) expect(denied(MESH_POLICY, 'CREATE', { ...se({}), metadata: { name: 'x', namespace: outside } }).denied).toBe(true);
  });

  it('finding 1: a tenant folder may hold only plain resources, and what its Flux applies equals what cdk8s generates, field by field', () => {
    for (const tenant of tenantNames(cluster)) {
      const folder = path.join(repoRoot, 'clusters', cluster, 'tenants', tenant);
      expect({ tenant, problems: tenantFolderProblems(folder, generatedForTenant(models, tenant)) }).toEqual({ tenant, problems: [] });
      expect(reconcileCluster(cluster).find((s) => s.id === `${tenant}/secure-buckets`)?.path).toBe(path.relative(repoRoot, folder));
    }
  });

  it('finding 10: no pod in a tenant namespace may run as the tenant Flux ServiceAccount, under either field, whoever creates it', () => {
    // A tenant with buckets: a freshly onboarded one has no example consumers yet.
    const ns = tenantNames(cluster).find((t) => models.some((m) => m.identity.claimNamespace === t)) as string;
    const pod = (spec: Record<string, unknown>): K8sObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ns }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec } });
    for (const user of [tenantUser(ns), 'system:serviceaccount:kube-system:replicaset-controller', 'alice']) {
      expect(denied(FLUX_ID_POLICY, 'CREATE', pod({ serviceAccountName: 'flux-reconciler' }), { user }).denied).toBe(true);
      expect(denied(FLUX_ID_POLICY, 'CREATE', pod({ serviceAccount: 'flux-reconciler', automountServiceAccountToken: true }), { user }).denied).toBe(true);
    }
    expect(denied(FLUX_ID_POLICY, 'UPDATE', pod({ serviceAccountName: 'flux-reconciler' })).denied).toBe(true);
    // The example consumers' pods are admitted.
    const examples = models.filter((m) => m.identity.claimNamespace === ns).flatMap((m) => claimObjects(m).examples as Array<K8sObject & { spec: { template: { spec: Record<string, unknown> } } }>);
    expect(examples.length).toBeGreaterThan(0);
    for (const d of examples) expect(decide(FLUX_ID_POLICY, 'CREATE', pod(d.spec.template.spec))).toEqual({ matched: true, allowed: true, messages: [] });
    // Outside tenant namespaces the policy does not apply.
    expect(decide(FLUX_ID_POLICY, 'CREATE', { ...pod({ serviceAccountName: 'flux-reconciler' }), metadata: { name: 'p', namespace: 'flux-system' } }).matched).toBe(false);
  });

  it('red team: the tenant identity may not create, change or delete its own Flux ServiceAccount; the platform and the namespace controller may', () => {
    const ns = tenantNames(cluster)[0] as string;
    const sa = platformAccount(ns);
    const edited = { ...clone(sa), metadata: { ...clone(sa.metadata), annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/x' } }, automountServiceAccountToken: true };
    for (const [op, obj, old] of [['CREATE', sa, undefined], ['UPDATE', edited, sa], ['DELETE', sa, undefined]] as const) {
      const d = denied(FLUX_SA_POLICY, op, obj, old ? { old } : {});
      expect({ op, ...d, messages: d.messages.length > 0 }).toEqual({ op, what: d.what, denied: true, messages: true });
      // The platform's tenants stage (kustomize-controller) writes it; the namespace controller deletes it with the namespace.
      expect(decide(FLUX_SA_POLICY, op, obj, { ...(old ? { old } : {}), user: PLATFORM_USER }).allowed).toBe(true);
    }
    expect(decide(FLUX_SA_POLICY, 'DELETE', sa, { user: 'system:serviceaccount:kube-system:namespace-controller' }).allowed).toBe(true);
    // Its own consumers' ServiceAccounts stay the tenant's.
    const consumer: K8sObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sales-api', namespace: ns } };
    for (const op of ['CREATE', 'UPDATE', 'DELETE'] as const) expect(decide(FLUX_SA_POLICY, op, consumer).allowed).toBe(true);
  });

  it('red team: a tenant AuthorizationPolicy may not route authorization to an extension provider (action CUSTOM)', () => {
    const ap = (spec: Record<string, unknown>, apiVersion = 'security.istio.io/v1'): K8sObject => ({ apiVersion, kind: 'AuthorizationPolicy', metadata: meta('authz'), spec });
    for (const [why, obj] of [
      ['CUSTOM with a provider', ap({ action: 'CUSTOM', provider: { name: 'ext-authz' }, rules: [{}] })],
      ['CUSTOM, v1beta1', ap({ action: 'CUSTOM', provider: { name: 'ext-authz' }, rules: [{}] }, 'security.istio.io/v1beta1')],
      ['a provider without action', ap({ provider: { name: 'ext-authz' }, rules: [{}] })],
    ] as const) {
      const d = denied(MESH_POLICY, 'CREATE', obj);
      expect({ why, errors: d.messages.filter((m) => m.includes('(error:')) }).toEqual({ why, errors: [] });
      expect({ why, denied: d.denied }).toEqual({ why, denied: true });
      expect({ why, update: denied(MESH_POLICY, 'UPDATE', obj, { old: ap({ action: 'ALLOW', rules: [{}] }) }).denied }).toEqual({ why, update: true });
    }
    for (const action of ['ALLOW', 'DENY', 'AUDIT', undefined]) expect([action, decide(MESH_POLICY, 'CREATE', ap(action ? { action, rules: [{}] } : { rules: [{}] })).allowed]).toEqual([action, true]);
  });

  it('red team: a claim with compositeDeletePolicy Background is refused, on create and update, from anyone', () => {
    const ns = tenantNames(cluster)[0] as string;
    const claim = (policy?: string): K8sObject => ({ apiVersion: 'platform.example.org/v1alpha1', kind: 'XSecureBucketClaim', metadata: { name: 'c', namespace: ns }, spec: { ...(policy ? { compositeDeletePolicy: policy } : {}) } });
    for (const user of [tenantUser(ns), PLATFORM_USER, 'alice']) {
      expect(denied(CLAIMS_POLICY, 'CREATE', claim('Background'), { user }).denied).toBe(true);
      expect(denied(CLAIMS_POLICY, 'UPDATE', claim('Background'), { user, old: claim('Foreground') }).denied).toBe(true);
    }
    for (const ok of [undefined, 'Foreground']) expect(decide(CLAIMS_POLICY, 'CREATE', claim(ok)).allowed).toBe(true);
    // The claims Flux applies pass.
    const claims = tenantObjects.filter((o) => o.kind === 'XSecureBucketClaim');
    for (const c of claims) expect(decide(CLAIMS_POLICY, 'CREATE', c).allowed).toBe(true);
  });

  it('finding 13: TLS origination to S3 is platform-owned and checks the certificate, one DestinationRule per S3 host; tenants may neither originate TLS nor turn it off', () => {
    for (const ns of meshNamespaces) {
      const hosts = models.filter((m) => m.identity.claimNamespace === ns).flatMap((m) => s3Hosts(m.identity, m.spec, m.env));
      for (const host of hosts) {
        const rules = objects.filter((o) => o.kind === 'DestinationRule' && (o['spec'] as { host: string }).host === host);
        expect(rules.map((o) => ({ stage: stageOf.get(objectKey(o)), spec: o['spec'] }))).toEqual([
          { stage: 'flux-system/tenants', spec: { host, exportTo: ['.', GATEWAY_NS], trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'SIMPLE', sni: host, insecureSkipVerify: false } }] } } },
        ]);
      }
    }
    expect(tenantObjects.filter((o) => o.kind === 'DestinationRule' && JSON.stringify(o['spec']).match(/"mode":"(SIMPLE|DISABLE|MUTUAL)"/)).map(objectKey)).toEqual([]);
    expect(denied(MESH_POLICY, 'CREATE', dr({ trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'SIMPLE', sni: ownHost, insecureSkipVerify: true } }] } })).denied).toBe(true);
  });

  it("finding 13: the STS endpoint policy lets through only this account's roles and principals (IRSA)", () => {
    const irsa = models.filter((m) => m.env.identity.mode === 'IRSA');
    expect(irsa.length).toBeGreaterThan(0);
    const env = (irsa[0] as Model).env;
    const endpoints = objects.filter((o) => o.kind === 'VPCEndpoint' && (o['spec'] as { forProvider: { serviceName?: string } }).forProvider.serviceName === `com.amazonaws.${env.region}.sts`);
    expect(endpoints.map((o) => stageOf.get(objectKey(o)))).toEqual(['flux-system/tenants']);
    const spec = (endpoints[0] as K8sObject)['spec'] as { managementPolicies: string[]; forProvider: { policy: string } };
    expect(spec.managementPolicies).toEqual(['Observe', 'Update']);
    type St = { Effect: string; Action: string | string[]; Resource: string | string[]; Condition?: Record<string, Record<string, string>> };
    const statements = (JSON.parse(spec.forProvider.policy) as { Statement: St[] }).Statement;
    const list = (x: string | string[]) => (Array.isArray(x) ? x : [x]);
    const ownRoles = `arn:${env.partition}:iam::${env.accountId}:role/`;
    for (const st of statements.filter((s) => s.Effect === 'Allow')) {
      const pinned = st.Condition?.['StringEquals']?.['aws:PrincipalAccount'] === env.accountId;
      expect({ st, ok: pinned || list(st.Resource).every((r) => r.startsWith(ownRoles)) }).toEqual({ st, ok: true });
      for (const a of list(st.Action)) expect(a).toMatch(/^sts:[A-Za-z]+$/);
    }
    // A web-identity exchange for a role of this account passes, one for any other account does not.
    const allows = (action: string, resource: string) => statements.some((s) => s.Effect === 'Allow' && list(s.Action).includes(action) && list(s.Resource).some((r) => new RegExp(`^${r.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(resource)) && !s.Condition);
    expect(allows('sts:AssumeRoleWithWebIdentity', `${ownRoles}platform/bucket-x`)).toBe(true);
    expect(allows('sts:AssumeRoleWithWebIdentity', `arn:${env.partition}:iam::999988887777:role/exfil`)).toBe(false);
    expect(allows('sts:AssumeRole', `arn:${env.partition}:iam::999988887777:role/exfil`)).toBe(false);
  });
});

describe('issue 19: docs', () => {
  it('finding 13: the docs give DNS guidance (DNS is an exfiltration route the mesh does not close)', () => {
    for (const file of ['clusters/README.md', 'cdk8s/README.md', 'docs/controls.md']) {
      const text = readFileSync(path.join(repoRoot, file), 'utf8');
      expect({ file, dnsFirewall: /Route 53 Resolver DNS Firewall/.test(text) }).toEqual({ file, dnsFirewall: true });
    }
  });

  it('docs/controls.md has a platform/mesh row per control of findings 1, 10 and 13', () => {
    const text = readFileSync(path.join(repoRoot, 'docs/controls.md'), 'utf8');
    const ids = [...text.matchAll(/^\| (MESH\.\d+) \|/gm)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThanOrEqual(5);
    for (const finding of ['finding 1', 'finding 10', 'finding 13']) expect(text).toContain(finding);
  });
});

// Red team: a hostile tenant's Git changes, built as Flux would, must be caught by the folder check.
describe('issue 19: red team, hostile tenant folders', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'issue19-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const cluster = 'staging';
  const tenant = 'team-sales';
  const models = modelsOf(cluster);
  const generated = generatedForTenant(models, tenant);
  const original = readFileSync(path.join(repoRoot, 'clusters', cluster, 'tenants', tenant, KUSTOMIZATION_FILE), 'utf8');
  const base = load(original) as Record<string, unknown>;
  const hostileHost = models.find((m) => m.identity.claimNamespace === 'team-inventory');
  const victim = hostileHost ? s3Hosts(hostileHost.identity, hostileHost.spec, hostileHost.env)[0] : 'victim.s3.us-east-1.amazonaws.com';

  const variants: Array<[string, Record<string, unknown>, Record<string, string>?]> = [
    [
      'replacements fed by a local-config ConfigMap',
      {
        ...base,
        resources: [...(base['resources'] as string[]), 'evil.yaml'],
        replacements: [{ source: { kind: 'ConfigMap', name: 'evil', fieldPath: 'data.host' }, targets: [{ select: { kind: 'ServiceEntry' }, fieldPaths: ['spec.hosts.0'] }] }],
      },
      { 'evil.yaml': dump({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'evil', annotations: { 'config.kubernetes.io/local-config': 'true' } }, data: { host: victim } }) },
    ],
    ['patches', { ...base, patches: [{ target: { kind: 'ServiceEntry' }, patch: '[{"op":"add","path":"/spec/exportTo/-","value":"istio-system"}]' }] }],
    ['namePrefix', { ...base, namePrefix: 'x-' }],
    ['a component', { ...base, components: ['evil'] }, { 'evil/kustomization.yaml': dump({ apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component', patches: [] }) }],
    ['a generator', { ...base, configMapGenerator: [{ name: 'g', literals: ['a=b'] }] }],
    ['helmCharts', { ...base, helmCharts: [{ name: 'x', repo: 'https://example.org' }] }],
    ['a remote base', { ...base, resources: [...(base['resources'] as string[]), 'https://github.com/evil/repo//x?ref=main'] }],
    ['resources outside the folder', { ...base, resources: [...(base['resources'] as string[]), '../team-inventory/generated'] }],
    ['an edited generated object', base, { 'generated/sales-events.yaml': 'EDIT' }],
  ];

  it.each(variants.map((v) => [v[0], v] as const))('%s is refused', (_why, [why, kustomization, files]) => {
    const copy = path.join(scratch, why.replace(/[^a-z]+/gi, '-'));
    cpSync(path.join(repoRoot, 'clusters'), path.join(copy, 'clusters'), { recursive: true });
    const folder = path.join(copy, 'clusters', cluster, 'tenants', tenant);
    writeFileSync(path.join(folder, KUSTOMIZATION_FILE), dump(kustomization));
    for (const [name, content] of Object.entries(files ?? {})) {
      const target = path.join(folder, name);
      mkdirSync(path.dirname(target), { recursive: true });
      if (content === 'EDIT') writeFileSync(target, readFileSync(target, 'utf8').replace('- istio-system', '- "*"').replace('mode: STRICT', 'mode: PERMISSIVE').replace(/automountServiceAccountToken: false/, 'automountServiceAccountToken: true'));
      else writeFileSync(target, content);
    }
    let problems: string[];
    try {
      problems = tenantFolderProblems(folder, generated);
    } catch (error) {
      problems = [`does not build: ${(error as Error).message.split('\n')[0]}`];
    }
    expect({ why, refused: problems.length > 0 }).toEqual({ why, refused: true });
  });
});
