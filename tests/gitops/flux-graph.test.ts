// The order Flux reconciles in: every Kustomization's path and source exist, the dependsOn
// graph has no cycle, and each kind is applied only after the stage that installs its CRD.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { loadAll } from 'js-yaml';
import { schemasDir } from '../lib/repo.js';
import {
  type FluxStage,
  type K8sObject,
  clusterNames,
  fluxSpec,
  groupOf,
  isFluxKustomization,
  reconcileCluster,
  stageId,
  tenantNames,
} from '../lib/kustomize.js';

/** API groups the cluster serves before Flux applies anything (Kubernetes itself, or Flux's bootstrap). */
const SERVED_BEFORE_FLUX = new Set(['', 'apps', 'policy', 'rbac.authorization.k8s.io', 'networking.k8s.io', 'admissionregistration.k8s.io']);
const INSTALLED_BY_BOOTSTRAP = new Set(['source.toolkit.fluxcd.io', 'kustomize.toolkit.fluxcd.io', 'helm.toolkit.fluxcd.io']);
/** Installed by the cluster's Istio, outside this repo (the README's prerequisites). */
const INSTALLED_OUTSIDE_REPO = new Set(['networking.istio.io', 'security.istio.io']);

/** Groups of the CRDs a chart installs, from the CRD files of the same release in shared/schemas. */
function crdGroups(folder: string): string[] {
  return readdirSync(path.join(schemasDir, folder)).map((file) => {
    const crd = loadAll(readFileSync(path.join(schemasDir, folder, file), 'utf8'))[0] as { spec: { group: string } };
    return crd.spec.group;
  });
}
const CHART_CRD_GROUPS: Record<string, string[]> = { crossplane: crdGroups('crossplane') };

interface Spec {
  dependsOn?: Array<{ name: string; namespace?: string }>;
  sourceRef?: { kind: string; name: string; namespace?: string };
  chart?: { spec: { chart: string } };
  package?: string;
  group?: string;
  names?: { kind: string };
  claimNames?: { kind: string };
}
const specOf = (obj: K8sObject) => (obj['spec'] ?? {}) as Spec;

/** "group/kind" (kind "*" for a whole group) each object makes available once healthy. */
function installs(obj: K8sObject): string[] {
  const spec = specOf(obj);
  if (obj.kind === 'HelmRelease') return (CHART_CRD_GROUPS[spec.chart?.spec.chart ?? ''] ?? []).map((g) => `${g}/*`);
  if (obj.kind === 'Provider' && spec.package !== undefined) {
    // provider-aws-<service> serves <service>.aws.upbound.io and (namespaced) <service>.aws.m.upbound.io;
    // the family serves aws.upbound.io and aws.m.upbound.io (the provider configs).
    const name = /\/provider-(?:aws-(\w+)|family-aws):/.exec(spec.package);
    if (name === null) return [];
    const prefix = name[1] === undefined ? '' : `${name[1]}.`;
    return [`${prefix}aws.upbound.io/*`, `${prefix}aws.m.upbound.io/*`];
  }
  if (obj.kind === 'CompositeResourceDefinition') {
    return [spec.names?.kind, spec.claimNames?.kind].filter((k): k is string => k !== undefined).map((k) => `${spec.group}/${k}`);
  }
  return [];
}

/** Parent (the stage that applied it) and dependsOn edges, by stage id. */
function prerequisites(stage: FluxStage): string[] {
  const own = stage.kustomization.metadata.namespace ?? '';
  const deps = (specOf(stage.kustomization).dependsOn ?? []).map((d) => `${d.namespace ?? own}/${d.name}`);
  return stage.parent === undefined ? deps : [stage.parent, ...deps];
}

function ancestors(stages: FluxStage[], id: string): Set<string> {
  const byId = new Map(stages.map((s) => [s.id, s]));
  const found = new Set<string>();
  const visit = (current: string) => {
    for (const next of prerequisites(byId.get(current) as FluxStage)) {
      if (found.has(next)) continue;
      found.add(next);
      if (byId.has(next)) visit(next);
    }
  };
  visit(id);
  return found;
}

function findCycle(stages: FluxStage[]): string[] | undefined {
  const byId = new Map(stages.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const walk = (id: string, trail: string[]): string[] | undefined => {
    if (state.get(id) === 'visiting') return [...trail, id];
    if (state.get(id) === 'done' || !byId.has(id)) return undefined;
    state.set(id, 'visiting');
    for (const next of prerequisites(byId.get(id) as FluxStage)) {
      const cycle = walk(next, [...trail, id]);
      if (cycle !== undefined) return cycle;
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const stage of stages) {
    const cycle = walk(stage.id, []);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

describe.each(clusterNames().map((c) => [c]))('cluster %s: Flux reconciliation graph', (cluster) => {
  const stages = reconcileCluster(cluster);
  const ids = new Set(stages.map((s) => s.id));
  const allObjects = stages.flatMap((s) => s.objects);

  it('reaches the platform chain and every onboarded tenant from flux-system', () => {
    expect([...ids]).toEqual(
      expect.arrayContaining([
        'flux-system/flux-system',
        'flux-system/crossplane',
        'flux-system/crossplane-packages',
        'flux-system/crossplane-provider-config',
        'flux-system/platform',
        'flux-system/tenants',
        ...tenantNames(cluster).map((t) => `${t}/secure-buckets`),
      ]),
    );
  });

  it('every stage builds its own cluster folder', () => {
    for (const stage of stages) expect(stage.path).toMatch(new RegExp(`^clusters/${cluster}(/|$)`));
  });

  it('every sourceRef names a source defined in the same namespace (no cross-namespace refs)', () => {
    const sources = allObjects.filter((o) => groupOf(o.apiVersion) === 'source.toolkit.fluxcd.io');
    const refs = allObjects.flatMap((o) => {
      const spec = specOf(o);
      const ref = o.kind === 'HelmRelease' ? (spec.chart?.spec as Spec | undefined)?.sourceRef : isFluxKustomization(o) ? spec.sourceRef : undefined;
      return ref === undefined ? [] : [{ owner: `${o.kind} ${stageId(o)}`, ref, namespace: o.metadata.namespace }];
    });
    expect(refs.length).toBeGreaterThanOrEqual(stages.length);
    for (const { owner, ref, namespace } of refs) {
      expect({ owner, crossNamespace: ref.namespace !== undefined && ref.namespace !== namespace }).toEqual({ owner, crossNamespace: false });
      const found = sources.some((s) => s.kind === ref.kind && s.metadata.name === ref.name && s.metadata.namespace === namespace);
      expect({ owner, ref, found }).toEqual({ owner, ref, found: true });
    }
  });

  it('every dependsOn names a Kustomization of this cluster', () => {
    for (const stage of stages)
      for (const dep of prerequisites(stage)) expect({ stage: stage.id, dep, defined: ids.has(dep) }).toEqual({ stage: stage.id, dep, defined: true });
  });

  it('the dependsOn graph (with parent -> child edges) is acyclic', () => {
    expect(findCycle(stages)).toBeUndefined();
  });

  it('the platform chain is a chain: each stage depends on the one before', () => {
    const order = ['crossplane', 'crossplane-packages', 'crossplane-provider-config', 'platform', 'tenants'];
    order.slice(1).forEach((name, i) => {
      const stage = stages.find((s) => s.id === `flux-system/${name}`) as FluxStage;
      expect(specOf(stage.kustomization).dependsOn?.map((d) => d.name)).toEqual([order[i]]);
    });
  });

  it("every object's kind is installed by a stage that comes strictly before the one applying it", () => {
    const installers = new Map<string, string>();
    for (const stage of stages) for (const obj of stage.objects) for (const gk of installs(obj)) installers.set(gk, stage.id);
    // The tenants' claims must wait for the XRD, and so on; nothing may rely on luck.
    expect(installers.get('platform.example.org/XSecureBucketClaim')).toBe('flux-system/platform');
    expect(installers.get('storage.platform.example.org/XSecureBucket')).toBe('flux-system/platform');
    expect(installers.get('aws.m.upbound.io/*')).toBe('flux-system/crossplane-packages');
    expect(installers.get('pkg.crossplane.io/*')).toBe('flux-system/crossplane');
    expect(installers.get('aws.upbound.io/*')).toBe('flux-system/crossplane-packages');

    const problems: string[] = [];
    for (const stage of stages) {
      const before = ancestors(stages, stage.id);
      for (const obj of stage.objects) {
        const group = groupOf(obj.apiVersion);
        if (SERVED_BEFORE_FLUX.has(group) || INSTALLED_OUTSIDE_REPO.has(group)) continue;
        if (INSTALLED_BY_BOOTSTRAP.has(group)) continue; // flux-system precedes every stage
        const installer = installers.get(`${group}/${obj.kind}`) ?? installers.get(`${group}/*`);
        if (installer === undefined) problems.push(`${stage.id}: nothing installs ${group} ${obj.kind}`);
        else if (!before.has(installer))
          problems.push(`${stage.id}: applies ${obj.kind} ${obj.metadata.name} but ${installer}, which installs it, is not before it`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('stages that install CRDs wait for health, with expressions for kinds that never report Ready', () => {
    for (const stage of stages.filter((s) => s.objects.some((o) => installs(o).length > 0))) {
      const spec = fluxSpec(stage.kustomization) as { wait?: boolean; healthCheckExprs?: Array<{ apiVersion: string; kind?: string }> };
      expect({ stage: stage.id, wait: spec.wait }).toEqual({ stage: stage.id, wait: true });
      const needExpr = new Set(
        stage.objects.filter((o) => ['Provider', 'Function', 'CompositeResourceDefinition'].includes(o.kind)).map((o) => `${groupOf(o.apiVersion)}/${o.kind}`),
      );
      const covered = (spec.healthCheckExprs ?? []).map((e) => `${groupOf(e.apiVersion)}/${e.kind ?? ''}`);
      expect({ stage: stage.id, covered: [...needExpr].filter((gk) => covered.includes(gk)) }).toEqual({ stage: stage.id, covered: [...needExpr] });
      // kustomize-controller refuses two expressions for the same GroupKind.
      expect(new Set(covered).size).toBe(covered.length);
    }
  });

  it('the platform stages run as kustomize-controller; everything else names its own account', () => {
    for (const stage of stages.filter((s) => s.id !== 'flux-system/flux-system')) {
      const sa = fluxSpec(stage.kustomization)['serviceAccountName'];
      const own = stage.kustomization.metadata.namespace;
      expect({ stage: stage.id, sa }).toEqual({ stage: stage.id, sa: own === 'flux-system' ? 'kustomize-controller' : 'flux-reconciler' });
    }
    for (const release of allObjects.filter((o) => o.kind === 'HelmRelease')) expect(specOf(release)).toHaveProperty('serviceAccountName', 'helm-controller');
  });
});

// ---------------------------------------------------------------------------------------------
// The health-check expressions, evaluated on the condition shapes Crossplane reports.

const condition = (type: string, status: string) => ({ type, status, reason: 'x', lastTransitionTime: '2026-01-01T00:00:00Z' });
const packageStatus = (...conditions: ReturnType<typeof condition>[]) => ({
  apiVersion: 'pkg.crossplane.io/v1',
  kind: 'Provider',
  metadata: { name: 'p' },
  spec: {},
  status: { conditions },
});

function expressionsOf(cluster: string): Array<{ apiVersion: string; kind: string; current: string }> {
  return reconcileCluster(cluster).flatMap(
    (s) => (fluxSpec(s.kustomization)['healthCheckExprs'] as Array<{ apiVersion: string; kind: string; current: string }> | undefined) ?? [],
  );
}

function evaluate(expression: string, obj: Record<string, unknown>): boolean | string {
  const result = plan(celEnv(), parse(expression))(obj as never);
  return isCelError(result) ? `error: ${result.message}` : (result as boolean);
}

describe('health-check expressions', () => {
  const exprs = expressionsOf('staging');
  const current = (kind: string) => (exprs.find((e) => e.kind === kind) as { current: string }).current;

  it.each([['Provider'], ['Function']])('%s: current only when Installed and Healthy', (kind) => {
    expect(evaluate(current(kind), packageStatus(condition('Installed', 'True'), condition('Healthy', 'True')))).toBe(true);
    expect(evaluate(current(kind), packageStatus(condition('Installed', 'True'), condition('Healthy', 'False')))).toBe(false);
    expect(evaluate(current(kind), packageStatus(condition('Installed', 'False'), condition('Healthy', 'True')))).toBe(false);
    expect(evaluate(current(kind), packageStatus(condition('Installed', 'True')))).toBe(false);
    expect(evaluate(current(kind), { ...packageStatus(), status: {} })).toBe(false);
  });

  it('CompositeResourceDefinition: current when Established and, with claims, Offered', () => {
    const xrd = (claims: boolean, ...conditions: ReturnType<typeof condition>[]) => ({
      spec: claims ? { claimNames: { kind: 'C' } } : {},
      status: { conditions },
    });
    const expr = current('CompositeResourceDefinition');
    expect(evaluate(expr, xrd(true, condition('Established', 'True'), condition('Offered', 'True')))).toBe(true);
    expect(evaluate(expr, xrd(true, condition('Established', 'True')))).toBe(false);
    expect(evaluate(expr, xrd(false, condition('Established', 'True')))).toBe(true);
    expect(evaluate(expr, xrd(true, condition('Established', 'False'), condition('Offered', 'True')))).toBe(false);
  });

  it('the platform XRD declares claimNames, so Offered is really checked', () => {
    const xrd = reconcileCluster('staging')
      .flatMap((s) => s.objects)
      .find((o) => o.kind === 'CompositeResourceDefinition' && o.metadata.name === 'xsecurebuckets.platform.example.org') as K8sObject;
    expect(specOf(xrd).claimNames?.kind).toBe('XSecureBucketClaim');
  });
});
