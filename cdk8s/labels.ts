// Labels the generated objects carry: who manages them, which claim they came from, and the
// pod labels that tie a consumer's pods to its NetworkPolicy and mesh policies.
import { type ClaimIdentity, type Consumer, ownerLabels } from '../functions/secure-bucket/src/core/index.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'cdk8s-secure-bucket';
export const CONSUMER_LABEL = 'platform.example.org/bucket-consumer';
export const CLAIM_LABEL = 'platform.example.org/bucket-claim';
/** Marks the platform's objects in tenant namespaces: the admission policy refuses tenant writes to them. */
export const PLATFORM_OWNED_LABEL = 'platform.example.org/owned-by';
export const PLATFORM_OWNED = 'platform';

/** On every generated object. */
export function generatedLabels(identity: ClaimIdentity): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, ...ownerLabels(identity) };
}

/**
 * The labels a consumer's pods must carry (the example Deployment has them). Two labels, because
 * consumer names are unique only within one claim and a namespace may hold several claims.
 */
export function consumerPodLabels(identity: ClaimIdentity, consumer: Pick<Consumer, 'name'>): Record<string, string> {
  return { [CLAIM_LABEL]: identity.claimName, [CONSUMER_LABEL]: consumer.name };
}

/** Prefix of every generated object name: the claim's, then the consumer's. */
export function objectName(identity: ClaimIdentity, ...parts: string[]): string {
  return ['bucket', identity.claimName, ...parts].join('-');
}
