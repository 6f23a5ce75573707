// Issue 19 (security review), findings 1, 10 and 13, proved on what each cluster's Flux applies.
// What the admission policies (clusters/base/admission) admit and deny is decided by the real
// apiserver in tests/e2e/admission.test.ts (make e2e); here, that each cluster applies them.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { dump, load } from 'js-yaml';
import { inMesh } from '../../cdk8s/chart.js';
import { s3Hosts } from '../../cdk8s/s3-hosts.js';
import { claimObjects, loadModels, namespaceObjects, type Model } from '../../cdk8s/synth.js';
import {
  type K8sObject,
  appliedObjects,
  clusterNames,
  groupOf,
  KUSTOMIZATION_FILE,
  kustomizeBuild,
  objectKey,
  reconcileCluster,
  tenantNames,
} from '../lib/kustomize.js';
import { repoRoot } from '../lib/repo.js';

const MESH_POLICY = 'secure-bucket-tenant-mesh';
const FLUX_ID_POLICY = 'secure-bucket-tenant-flux-identity';
const GATEWAY_NS = 'istio-system';

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
    for (const alt of ['kustomization.yml', 'Kustomization'])
      if (existsSync(path.join(dir, alt))) problems.push(`${path.relative(folder, dir) || '.'}/${alt}: use kustomization.yaml only`);
    if (existsSync(file)) {
      const k = (load(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
      const where = path.relative(folder, file);
      for (const key of Object.keys(k))
        if (!['apiVersion', 'kind', 'resources'].includes(key)) problems.push(`${where}: '${key}' is not allowed in a tenant folder (only resources)`);
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
  if (x !== null && typeof x === 'object')
    return Object.fromEntries(
      Object.entries(x)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  return x;
}

describe.each(clusterNames().map((c) => [c]))('cluster %s: issue 19', (cluster) => {
  const applied = appliedObjects(cluster);
  const objects = applied.map(({ object }) => object);
  const stageOf = new Map(applied.map(({ stage, object }) => [objectKey(object), stage.id]));
  const models = modelsOf(cluster);
  const meshNamespaces = [...new Set(models.filter(inMesh).map((m) => m.identity.claimNamespace))].sort();
  const tenantObjects = applied.filter(({ stage }) => stage.id.endsWith('/secure-buckets')).map(({ object }) => object);

  it('applies both admission policies, each with a binding that denies', () => {
    for (const name of [MESH_POLICY, FLUX_ID_POLICY]) {
      const policy = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy' && o.metadata.name === name);
      const binding = objects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding' && (o['spec'] as { policyName?: string }).policyName === name);
      expect({ name, policy: policy?.apiVersion, actions: (binding?.['spec'] as { validationActions?: string[] } | undefined)?.validationActions }).toEqual({
        name,
        policy: 'admissionregistration.k8s.io/v1',
        actions: ['Deny'],
      });
      expect(stageOf.get(objectKey(policy as K8sObject))).toBe('flux-system/tenants');
    }
  });

  // The attacker: a mesh namespace; the victim's host: any other tenant's bucket host in this cluster.
  const attacker = meshNamespaces[0] as string;
  const victimHost = models.filter((m) => m.identity.claimNamespace !== attacker).flatMap((m) => s3Hosts(m.identity, m.spec, m.env))[0] as string;
  const ownHost = models.filter((m) => m.identity.claimNamespace === attacker).flatMap((m) => s3Hosts(m.identity, m.spec, m.env))[0] as string;

  it('has a mesh namespace to attack from and another tenant host to steal', () => {
    expect(attacker).toBeDefined();
    expect(victimHost).toBeDefined();
    expect(ownHost).toBeDefined();
  });

  it("finding 1: no object a tenant's Kustomization applies is exported beyond its namespace; every gateway-side object is applied by flux-system/tenants", () => {
    const exported = tenantObjects.filter(
      (o) => groupOf(o.apiVersion).endsWith('.istio.io') && JSON.stringify((o['spec'] as { exportTo?: string[] }).exportTo) !== JSON.stringify(['.']),
    );
    expect(exported.filter((o) => ['ServiceEntry', 'DestinationRule', 'VirtualService'].includes(o.kind)).map(objectKey)).toEqual([]);
    const gatewaySide = objects.filter(
      (o) => ((o['spec'] as { exportTo?: string[] } | undefined)?.exportTo ?? []).includes(GATEWAY_NS) || o.kind === 'Gateway',
    );
    expect(gatewaySide.length).toBeGreaterThan(0);
    for (const o of gatewaySide) expect({ o: objectKey(o), stage: stageOf.get(objectKey(o)) }).toEqual({ o: objectKey(o), stage: 'flux-system/tenants' });
    for (const o of gatewaySide)
      expect({ o: objectKey(o), owner: o.metadata.labels?.['platform.example.org/owned-by'] }).toEqual({ o: objectKey(o), owner: 'platform' });
  });

  it('finding 1: a tenant folder may hold only plain resources, and what its Flux applies equals what cdk8s generates, field by field', () => {
    for (const tenant of tenantNames(cluster)) {
      const folder = path.join(repoRoot, 'clusters', cluster, 'tenants', tenant);
      expect({ tenant, problems: tenantFolderProblems(folder, generatedForTenant(models, tenant)) }).toEqual({ tenant, problems: [] });
      expect(reconcileCluster(cluster).find((s) => s.id === `${tenant}/secure-buckets`)?.path).toBe(path.relative(repoRoot, folder));
    }
  });

  it('finding 13: TLS origination to S3 is platform-owned and checks the certificate, one DestinationRule per S3 host; tenants may neither originate TLS nor turn it off', () => {
    for (const ns of meshNamespaces) {
      const hosts = models.filter((m) => m.identity.claimNamespace === ns).flatMap((m) => s3Hosts(m.identity, m.spec, m.env));
      for (const host of hosts) {
        const rules = objects.filter((o) => o.kind === 'DestinationRule' && (o['spec'] as { host: string }).host === host);
        expect(rules.map((o) => ({ stage: stageOf.get(objectKey(o)), spec: o['spec'] }))).toEqual([
          {
            stage: 'flux-system/tenants',
            spec: {
              host,
              exportTo: ['.', GATEWAY_NS],
              trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'SIMPLE', sni: host, insecureSkipVerify: false } }] },
            },
          },
        ]);
      }
    }
    expect(
      tenantObjects.filter((o) => o.kind === 'DestinationRule' && JSON.stringify(o['spec']).match(/"mode":"(SIMPLE|DISABLE|MUTUAL)"/)).map(objectKey),
    ).toEqual([]);
  });

  it("finding 13: the STS endpoint policy lets through only this account's roles and principals (IRSA)", () => {
    const irsa = models.filter((m) => m.env.identity.mode === 'IRSA');
    expect(irsa.length).toBeGreaterThan(0);
    const env = (irsa[0] as Model).env;
    const endpoints = objects.filter(
      (o) => o.kind === 'VPCEndpoint' && (o['spec'] as { forProvider: { serviceName?: string } }).forProvider.serviceName === `com.amazonaws.${env.region}.sts`,
    );
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
    const allows = (action: string, resource: string) =>
      statements.some(
        (s) =>
          s.Effect === 'Allow' &&
          list(s.Action).includes(action) &&
          list(s.Resource).some((r) => new RegExp(`^${r.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(resource)) &&
          !s.Condition,
      );
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
        replacements: [
          {
            source: { kind: 'ConfigMap', name: 'evil', fieldPath: 'data.host' },
            targets: [{ select: { kind: 'ServiceEntry' }, fieldPaths: ['spec.hosts.0'] }],
          },
        ],
      },
      {
        'evil.yaml': dump({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'evil', annotations: { 'config.kubernetes.io/local-config': 'true' } },
          data: { host: victim },
        }),
      },
    ],
    ['patches', { ...base, patches: [{ target: { kind: 'ServiceEntry' }, patch: '[{"op":"add","path":"/spec/exportTo/-","value":"istio-system"}]' }] }],
    ['namePrefix', { ...base, namePrefix: 'x-' }],
    [
      'a component',
      { ...base, components: ['evil'] },
      { 'evil/kustomization.yaml': dump({ apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component', patches: [] }) },
    ],
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
      if (content === 'EDIT')
        writeFileSync(
          target,
          readFileSync(target, 'utf8')
            .replace('- istio-system', '- "*"')
            .replace('mode: STRICT', 'mode: PERMISSIVE')
            .replace(/automountServiceAccountToken: false/, 'automountServiceAccountToken: true'),
        );
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
