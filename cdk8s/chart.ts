// One claim's consumer objects: per consumer a ServiceAccount and a NetworkPolicy, and in mesh
// namespaces the AuthorizationPolicies (the S3 route itself is platform-owned, mesh.ts).
import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { type BucketSpec, type ClaimIdentity, type Consumer, consumerRoleArn, type PlatformEnvironment } from '../functions/secure-bucket/src/core/index.js';
import { consumerPodLabels, generatedLabels, objectName } from './labels.js';
import { authorizationPolicy } from './mesh.js';
import type { ClusterNetwork, PodPeer } from './platform.js';

export interface ClaimModel {
  identity: ClaimIdentity;
  spec: BucketSpec;
  env: PlatformEnvironment;
  network: ClusterNetwork;
}

export const IRSA_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';
export const IRSA_REGIONAL_STS_ANNOTATION = 'eks.amazonaws.com/sts-regional-endpoints';

export function inMesh(model: Pick<ClaimModel, 'identity' | 'network'>): boolean {
  return model.identity.claimNamespace in model.network.mesh.namespaces;
}

/**
 * IRSA: the role annotation tells the EKS pod identity webhook to inject the web-identity token
 * (a projected volume of its own, audience sts.amazonaws.com), so the Kubernetes API token is not
 * mounted. Pod Identity: no annotation; the function renders the PodIdentityAssociation.
 */
export function serviceAccountAnnotations(model: ClaimModel, consumer: Consumer): Record<string, string> {
  if (model.env.identity.mode !== 'IRSA') return {};
  return { [IRSA_ROLE_ANNOTATION]: consumerRoleArn(model.identity, consumer, model.env), [IRSA_REGIONAL_STS_ANNOTATION]: 'true' };
}

function podPeer(scope: Construct, id: string, peer: PodPeer): kplus.Pods {
  return kplus.Pods.select(scope, id, { labels: peer.podLabels, namespaces: kplus.Namespaces.select(scope, `${id}-ns`, { names: [peer.namespace] }) });
}

function ipBlocks(scope: Construct, id: string, cidrs: string[]): kplus.NetworkPolicyIpBlock[] {
  return cidrs.map((cidr, i) =>
    cidr.includes(':') ? kplus.NetworkPolicyIpBlock.ipv6(scope, `${id}${i}`, cidr) : kplus.NetworkPolicyIpBlock.ipv4(scope, `${id}${i}`, cidr),
  );
}

/** Egress: DNS, credentials, and S3 (direct on 443, or in the mesh only via istiod and the egress gateway). */
function networkPolicy(chart: Chart, model: ClaimModel, consumer: Consumer): void {
  const { network, identity, spec, env } = model;
  const id = `np-${consumer.name}`;
  const policy = new kplus.NetworkPolicy(chart, id, {
    metadata: { name: objectName(identity, consumer.name) },
    selector: kplus.Pods.select(chart, `${id}-self`, { labels: consumerPodLabels(identity, consumer) }),
    ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
    egress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
  });
  policy.addEgressRule(podPeer(chart, `${id}-dns`, network.dns), [
    kplus.NetworkPolicyPort.udp(network.dns.port),
    kplus.NetworkPolicyPort.tcp(network.dns.port),
  ]);
  const credentials = env.identity.mode === 'IRSA' ? { cidrs: network.stsEndpointCidrs, port: 443 } : network.podIdentityAgent;
  if (credentials.cidrs.length === 0) {
    throw new Error(
      `${identity.claimNamespace}/${identity.claimName}: no credential endpoint addresses for ${env.identity.mode} (cdk8s/platform.yaml clusters.${env.clusterName}.stsEndpointCidrs)`,
    );
  }
  for (const peer of ipBlocks(chart, `${id}-cred`, credentials.cidrs)) policy.addEgressRule(peer, [kplus.NetworkPolicyPort.tcp(credentials.port)]);
  if (inMesh(model)) {
    const { istiod, egressGateway } = network.mesh;
    policy.addEgressRule(podPeer(chart, `${id}-istiod`, istiod), [kplus.NetworkPolicyPort.tcp(istiod.port)]);
    policy.addEgressRule(podPeer(chart, `${id}-egress`, egressGateway), [kplus.NetworkPolicyPort.tcp(egressGateway.port)]);
    return;
  }
  const ranges = network.s3Ranges[spec.region];
  if (!ranges) throw new Error(`cdk8s/s3-ranges.yaml has no S3 ranges for region ${spec.region}: regenerate it with that region`);
  for (const peer of ipBlocks(chart, `${id}-s3`, [...ranges.ipv4, ...ranges.ipv6])) policy.addEgressRule(peer, [kplus.NetworkPolicyPort.tcp(443)]);
}

export class ClaimChart extends Chart {
  constructor(scope: Construct, id: string, model: ClaimModel) {
    super(scope, id, { namespace: model.identity.claimNamespace, disableResourceNameHashes: true, labels: generatedLabels(model.identity) });
    for (const consumer of model.spec.consumers) {
      new kplus.ServiceAccount(this, `sa-${consumer.name}`, {
        metadata: { name: consumer.serviceAccount, annotations: serviceAccountAnnotations(model, consumer) },
        automountToken: false,
      });
      networkPolicy(this, model, consumer);
      if (inMesh(model)) authorizationPolicy(this, model, consumer);
    }
  }
}
