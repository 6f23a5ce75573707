// Two resource families, one description. The concern modules compose one neutral description,
// written in the cluster-scoped provider-aws kinds (`*.aws.upbound.io`) that a claim's
// LegacyCluster XR composes. A namespaced v2 XSecureBucket can compose only namespaced managed
// resources, so for it each resource is mapped here, after composing, onto the namespaced family
// (`*.aws.m.upbound.io`): the same kind, the one version the namespaced CRDs serve, the XR's
// namespace, the platform's ClusterProviderConfig, and managementPolicies where the cluster family
// says deletionPolicy. Nothing else changes: forProvider (every policy document included), labels
// and external names are the same bytes, so a claim and the v2 XR of the same namespace and name
// own the same AWS resources. The field shapes were checked against
// shared/schemas/provider-aws-namespaced (provider-aws v2.6.0): each namespaced v1beta1 kind has
// the shape of the cluster-scoped version we render (v1beta2 where it exists), minus deletionPolicy;
// tests/upstream/validate.test.ts validates both families with the real `crossplane resource validate`.
//
// References need no mapping: `*Selector` with matchControllerRef selects the sibling of the same
// XR, which for namespaced resources is always in the same namespace; the core names no object by
// reference. Observed resources come back in the family's shape, which the core reads unchanged
// (atProvider has the same fields; observe-only is managementPolicies ['Observe'] in both).
import { isObject, type Json } from './fields.js';
import { groupIn, kindOf } from './kinds.js';
import type { ManagedResource } from './types.js';

export type ResourceFamily = 'Cluster' | 'Namespaced';

/** The ClusterProviderConfig the platform applies (clusters/base/provider-config/cluster-provider-config.yaml). */
export const CLUSTER_PROVIDER_CONFIG = 'default';
/** deletionPolicy Orphan in the namespaced family: everything but Delete (a crossplane-runtime supported set). */
export const ORPHAN_POLICIES = ['Observe', 'Create', 'Update', 'LateInitialize'];

/** A namespaced XR (Crossplane v2) has metadata.namespace; a claim's LegacyCluster XR has none. */
export function familyOf(composite: Json): ResourceFamily {
  const metadata = isObject(composite['metadata']) ? composite['metadata'] : {};
  const namespace = metadata['namespace'];
  return typeof namespace === 'string' && namespace !== '' ? 'Namespaced' : 'Cluster';
}

/** The apiVersion of a cluster-scoped resource's namespaced twin (its kind is the same). */
export function namespacedApiVersionOf(resource: Pick<ManagedResource, 'apiVersion' | 'kind'>): string {
  // The catalog (kinds.ts) says the kind's namespaced version; a kind outside it has no twin.
  const entry = kindOf(resource.kind);
  if (resource.apiVersion !== `${groupIn(entry, 'Cluster')}/${entry.versions.Cluster}` || entry.versions.Namespaced === undefined) {
    throw new Error(`${resource.kind} ${resource.apiVersion}: no namespaced twin (not a cluster-scoped kind of the catalog, core/kinds.ts)`);
  }
  return `${groupIn(entry, 'Namespaced')}/${entry.versions.Namespaced}`;
}

/** The namespaced twin of a cluster-scoped resource, in `namespace`. */
export function namespacedResource(resource: ManagedResource, namespace: string): ManagedResource {
  const apiVersion = namespacedApiVersionOf(resource);
  const { deletionPolicy, ...spec } = resource.spec;
  if (deletionPolicy === 'Orphan' && spec['managementPolicies'] === undefined) spec['managementPolicies'] = ORPHAN_POLICIES;
  spec['providerConfigRef'] = { kind: 'ClusterProviderConfig', name: CLUSTER_PROVIDER_CONFIG };
  return {
    apiVersion,
    kind: resource.kind,
    metadata: { ...resource.metadata, namespace },
    spec,
  };
}

/** The composed resources in the family of `composite`: unchanged for a claim's XR. */
export function inFamilyOf(composite: Json, resources: Record<string, ManagedResource>): Record<string, ManagedResource> {
  if (familyOf(composite) === 'Cluster') return resources;
  const namespace = String((composite['metadata'] as Json)['namespace']);
  return Object.fromEntries(Object.entries(resources).map(([name, r]) => [name, namespacedResource(r, namespace)]));
}

/** Whether deleting this composed resource leaves its AWS resource in place, in either family. */
export function keepsExternalOnDelete(resource: Json): boolean {
  const spec = isObject(resource['spec']) ? resource['spec'] : {};
  if (spec['deletionPolicy'] === 'Orphan') return true;
  const policies = spec['managementPolicies'];
  return Array.isArray(policies) && !policies.includes('Delete') && !policies.includes('*');
}
