// The shape every composed provider-aws resource shares: labels, external name, deletion policy.
import { apiVersionOf, type KindName } from './kinds.js';
import { ownerLabels } from './naming.js';
import type { ClaimIdentity, ManagedResource, ObservedResource } from './types.js';

export interface ManagedOptions {
  /** The AWS name of the resource (crossplane.io/external-name). */
  externalName?: string;
  /** Orphan for anything whose deletion would lose data (bucket, key). */
  keepOnDelete?: boolean;
}

/**
 * For a bucket's configuration (public access block, ownership, encryption, policy, versioning,
 * lock): the bucket outlives its claim, so these must outlive it too, or an orphaned bucket would
 * lose its public access block and TLS-only policy. AWS names each after its bucket, so a re-created
 * claim observes (adoption.ts) exactly the configuration its bucket holds.
 */
export function bucketConfiguration(bucket: string): ManagedOptions {
  return { externalName: bucket, keepOnDelete: true };
}

/** Label that tells composed resources apart for matchControllerRef selectors. */
export const COMPONENT_LABEL = 'platform.example.org/component';

/** A composed provider-aws resource, named by its parts: the catalog (kinds.ts) gives its apiVersion. */
export interface ManagedSpec extends ManagedOptions {
  kind: KindName;
  /** The component label (matchControllerRef selectors tell siblings apart by it). */
  component: string;
  forProvider: Record<string, unknown>;
}

export function managed(identity: ClaimIdentity, { kind, component, forProvider, externalName, keepOnDelete }: ManagedSpec): ManagedResource {
  const metadata: ManagedResource['metadata'] = {
    labels: { ...ownerLabels(identity), [COMPONENT_LABEL]: component },
  };
  if (externalName !== undefined) metadata.annotations = { 'crossplane.io/external-name': externalName };
  return {
    apiVersion: apiVersionOf(kind),
    kind,
    metadata,
    spec: {
      deletionPolicy: keepOnDelete ? 'Orphan' : 'Delete',
      forProvider,
    },
  };
}

/** Selects the composed resource of `component` that belongs to the same XR. */
export function sameXrSelector(component: string): { matchControllerRef: true; matchLabels: Record<string, string> } {
  return { matchControllerRef: true, matchLabels: { [COMPONENT_LABEL]: component } };
}

/** A string the provider reported in status.atProvider, if it has reported it yet. */
export function observedString(observed: Record<string, ObservedResource>, name: string, field: string): string | undefined {
  const value = observed[name]?.resource.status?.atProvider?.[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
