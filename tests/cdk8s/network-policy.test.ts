// Evaluates the generated NetworkPolicies (NetworkPolicy semantics, tests/cdk8s/network-policy-eval.ts)
// against tables of destinations: a consumer's pods reach S3 of their region on 443, their
// credentials endpoint and cluster DNS, and nothing else; no other pod is selected; no ingress.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { consumerPodLabels } from '../../cdk8s/labels.js';
import { claimObjects, type Model } from '../../cdk8s/synth.js';
import { egressAllowed, inCidr, ingressAllowed, isSelected, type Endpoint, type Pod, type Protocol } from './network-policy-eval.js';
import { exampleModels, VARIANTS } from './models.js';
import { propertySeed } from '../lib/seed.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML read deep in assertions; a wrong path fails the assertion
type Deep = any;

const nsLabels = (name: string) => ({ 'kubernetes.io/metadata.name': name });
const pod = (namespace: string, labels: Record<string, string>, ip = '10.40.99.7'): Pod => ({
  kind: 'pod',
  namespace,
  namespaceLabels: nsLabels(namespace),
  labels,
  ip,
});
const ip = (address: string): Endpoint => ({ kind: 'ip', ip: address });

function policiesOf(model: Model): unknown[] {
  return claimObjects(model).objects;
}

interface Case {
  what: string;
  to: Endpoint;
  protocol: Protocol;
  port: number;
  allow: boolean;
}

/** Destinations every consumer pod is checked against; `allow` follows the variant. */
function destinations(model: Model): Case[] {
  const { network, env } = model;
  const irsa = env.identity.mode === 'IRSA';
  const mesh = model.identity.claimNamespace in network.mesh.namespaces;
  const s3 = network.s3Ranges[model.spec.region]?.ipv4[0];
  if (!s3) throw new Error('no S3 range for the region');
  const s3Address = s3.split('/')[0] as string;
  const otherRegionS3 = Object.entries(network.s3Ranges)
    .find(([r]) => r !== model.spec.region)?.[1]
    .ipv4[0]?.split('/')[0] as string;
  const sts = network.stsEndpointCidrs[0]?.split('/')[0] as string;
  const dns = pod(network.dns.namespace, network.dns.podLabels, '10.40.1.10');
  const gateway = pod(network.mesh.egressGateway.namespace, network.mesh.egressGateway.podLabels, '10.40.1.20');
  const istiod = pod(network.mesh.istiod.namespace, network.mesh.istiod.podLabels, '10.40.1.30');
  return [
    { what: 'S3 of the region on 443', to: ip(s3Address), protocol: 'TCP', port: 443, allow: !mesh },
    { what: 'S3 of the region on 80 (plain HTTP)', to: ip(s3Address), protocol: 'TCP', port: 80, allow: false },
    { what: 'S3 of the region on UDP 443', to: ip(s3Address), protocol: 'UDP', port: 443, allow: false },
    { what: 'S3 of another region on 443', to: ip(otherRegionS3), protocol: 'TCP', port: 443, allow: false },
    { what: 'the internet on 443', to: ip('8.8.8.8'), protocol: 'TCP', port: 443, allow: false },
    { what: 'cluster DNS over UDP', to: dns, protocol: 'UDP', port: 53, allow: true },
    { what: 'cluster DNS over TCP', to: dns, protocol: 'TCP', port: 53, allow: true },
    { what: 'cluster DNS pods on another port', to: dns, protocol: 'TCP', port: 443, allow: false },
    { what: 'a pod labelled like DNS in a tenant namespace', to: pod('team-evil', network.dns.podLabels), protocol: 'UDP', port: 53, allow: false },
    { what: 'another kube-system pod on 53', to: pod('kube-system', { 'k8s-app': 'metrics-server' }), protocol: 'UDP', port: 53, allow: false },
    { what: 'the STS endpoint on 443', to: ip(sts), protocol: 'TCP', port: 443, allow: irsa },
    { what: 'the Pod Identity agent on 80', to: ip('169.254.170.23'), protocol: 'TCP', port: 80, allow: !irsa },
    { what: 'the Pod Identity agent over IPv6 on 80', to: ip('fd00:ec2::23'), protocol: 'TCP', port: 80, allow: !irsa },
    { what: 'instance metadata (IMDS)', to: ip('169.254.169.254'), protocol: 'TCP', port: 80, allow: false },
    { what: 'the Kubernetes API service', to: ip('172.20.0.1'), protocol: 'TCP', port: 443, allow: false },
    { what: 'a pod of its own namespace', to: pod(model.identity.claimNamespace, { app: 'web' }), protocol: 'TCP', port: 8080, allow: false },
    { what: 'the egress gateway (mesh mTLS)', to: gateway, protocol: 'TCP', port: network.mesh.egressGateway.port, allow: mesh },
    { what: 'istiod (xDS and certificates)', to: istiod, protocol: 'TCP', port: network.mesh.istiod.port, allow: mesh },
    {
      what: 'a pod labelled like the egress gateway in a tenant namespace',
      to: pod('team-evil', network.mesh.egressGateway.podLabels),
      protocol: 'TCP',
      port: 8443,
      allow: false,
    },
  ];
}

describe.each(VARIANTS)('NetworkPolicies, $name', (variant) => {
  const models = exampleModels(variant);

  it('cover every consumer of every example claim', () => {
    expect(models.length).toBeGreaterThanOrEqual(3);
    for (const m of models) {
      const policies = policiesOf(m).filter((o) => (o as { kind: string }).kind === 'NetworkPolicy');
      expect(policies).toHaveLength(m.spec.consumers.length);
    }
  });

  for (const model of models) {
    for (const consumer of model.spec.consumers) {
      const name = `${model.identity.claimNamespace}/${model.identity.claimName}/${consumer.name}`;
      const self = pod(model.identity.claimNamespace, { ...consumerPodLabels(model.identity, consumer), app: 'anything' });
      const policies = policiesOf(model);

      it(`${name}: egress table`, () => {
        const got = destinations(model).map((c) => ({ what: c.what, allow: egressAllowed(policies, self, c.to, c.protocol, c.port) }));
        expect(got).toEqual(destinations(model).map((c) => ({ what: c.what, allow: c.allow })));
      });

      it(`${name}: an IPv4 address is reachable exactly when it is in the region's S3 ranges (443), the credential endpoint, or nothing in the mesh`, () => {
        const { network, env } = model;
        const mesh = model.identity.claimNamespace in network.mesh.namespaces;
        const s3 = network.s3Ranges[model.spec.region]?.ipv4 ?? [];
        const creds = env.identity.mode === 'IRSA' ? { cidrs: network.stsEndpointCidrs, port: 443 } : network.podIdentityAgent;
        fc.assert(
          fc.property(fc.ipV4(), fc.constantFrom(53, 80, 443, 8443), fc.constantFrom<Protocol>('TCP', 'UDP'), (address, port, protocol) => {
            const expected =
              protocol === 'TCP' &&
              ((!mesh && port === 443 && s3.some((c) => inCidr(address, c))) || (port === creds.port && creds.cidrs.some((c) => inCidr(address, c))));
            return egressAllowed(policies, self, ip(address), protocol, port) === expected;
          }),
          { numRuns: 400, seed: propertySeed('NETWORK_POLICY_SEED') },
        );
        // Random addresses rarely land in the small ranges: check an address inside each too.
        for (const cidr of s3) expect(egressAllowed(policies, self, ip(cidr.split('/')[0] as string), 'TCP', 443)).toBe(!mesh);
      });

      it(`${name}: ingress is denied from every source`, () => {
        const sources: Endpoint[] = [
          pod(model.identity.claimNamespace, { app: 'web' }),
          pod('team-evil', {}),
          pod('kube-system', { 'k8s-app': 'kube-dns' }),
          ip('8.8.8.8'),
          ip('10.40.0.5'),
        ];
        for (const from of sources) for (const port of [80, 443, 8080, 15006]) expect(ingressAllowed(policies, self, from, 'TCP', port)).toBe(false);
      });

      it(`${name}: selects only this consumer's pods of this namespace`, () => {
        const labels = consumerPodLabels(model.identity, consumer);
        expect(isSelected(policies, self)).toBe(true);
        expect(isSelected(policies, pod('team-evil', labels))).toBe(false);
        const otherNs = model.identity.claimNamespace === 'team-sales' ? 'team-inventory' : 'team-sales';
        expect(isSelected(policies, pod(otherNs, labels))).toBe(false);
        expect(isSelected(policies, pod(model.identity.claimNamespace, { app: 'web' }))).toBe(false);
        // A pod missing the claim label is not this consumer, even with the consumer label.
        expect(isSelected(policies, pod(model.identity.claimNamespace, { 'platform.example.org/bucket-consumer': consumer.name }))).toBe(false);
      });
    }
  }
});

describe('policy peers never reach into another tenant', () => {
  it('every pod or namespace peer names its namespace explicitly, and it is a platform namespace', () => {
    for (const variant of VARIANTS) {
      for (const m of exampleModels(variant)) {
        const platformNamespaces = [m.network.dns.namespace, m.network.mesh.istiod.namespace, m.network.mesh.egressGateway.namespace];
        for (const obj of claimObjects(m).objects as Array<{ kind: string; spec: { egress?: Array<{ to?: Array<Record<string, Deep>> }> } }>) {
          if (obj.kind !== 'NetworkPolicy') continue;
          for (const rule of obj.spec.egress ?? []) {
            for (const peer of rule.to ?? []) {
              if (peer['ipBlock']) continue;
              const ns = peer['namespaceSelector']?.matchLabels?.['kubernetes.io/metadata.name'];
              expect(platformNamespaces).toContain(ns);
              expect(Object.keys(peer['podSelector']?.matchLabels ?? {}).length).toBeGreaterThan(0);
            }
          }
        }
      }
    }
  });
});

describe('the evaluator itself', () => {
  it('notices a widened policy: an empty egress rule opens everything, dropping Ingress from policyTypes opens ingress', () => {
    const [model] = exampleModels({ mode: 'IRSA' });
    if (!model) throw new Error('no example claim');
    const consumer = model.spec.consumers[0];
    if (!consumer) throw new Error('no consumer');
    const self = pod(model.identity.claimNamespace, consumerPodLabels(model.identity, consumer));
    const policies = structuredClone(policiesOf(model)) as Array<{
      kind: string;
      spec: { egress: unknown[]; policyTypes: string[]; podSelector: { matchLabels: Record<string, string> } };
    }>;
    const mine = policies.find((p) => p.kind === 'NetworkPolicy' && p.spec.podSelector.matchLabels['platform.example.org/bucket-consumer'] === consumer.name);
    if (!mine) throw new Error('no policy for the consumer');
    expect(egressAllowed(policies, self, ip('8.8.8.8'), 'TCP', 443)).toBe(false);
    mine.spec.egress.push({});
    expect(egressAllowed(policies, self, ip('8.8.8.8'), 'TCP', 443)).toBe(true);
    expect(ingressAllowed(policies, self, ip('8.8.8.8'), 'TCP', 443)).toBe(false);
    mine.spec.policyTypes = ['Egress'];
    expect(ingressAllowed(policies, self, ip('8.8.8.8'), 'TCP', 443)).toBe(true);
  });
});
