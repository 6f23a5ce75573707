// Every generated object validates against the upstream schemas (unknown fields rejected), carries
// the generated labels, and the ServiceAccounts and example Deployments have the settings the
// design asks for.
import { describe, expect, it } from '@jest/globals';
import { IRSA_ROLE_ANNOTATION } from '../../cdk8s/chart.js';
import { consumerPodLabels, MANAGED_BY, MANAGED_BY_LABEL } from '../../cdk8s/labels.js';
import { claimObjects, namespaceObjects, platformMeshObjects } from '../../cdk8s/synth.js';
import { listCommittedYamlFiles, loadYamlDocuments, relativeToRepo } from '../lib/repo.js';
import { getSchemaRegistry } from '../lib/schema-validator.js';
import { exampleModels, VARIANTS } from './models.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML read deep in assertions; a wrong path fails the assertion
type Deep = any;

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Deep;
  automountServiceAccountToken?: boolean;
};

function everything(variant: (typeof VARIANTS)[number]): Obj[] {
  const models = exampleModels(variant);
  const out: Obj[] = [];
  for (const m of models) {
    const { objects, examples } = claimObjects(m);
    out.push(...(objects as Obj[]), ...(examples as Obj[]));
  }
  for (const ns of Object.keys(variant.mesh ?? {})) {
    const group = models.filter((m) => m.identity.claimNamespace === ns);
    if (group.length > 0) out.push(...(namespaceObjects(ns, group) as Obj[]), ...(platformMeshObjects(ns, group) as Obj[]));
  }
  return out;
}

describe.each(VARIANTS)('generated objects, $name', (variant) => {
  const objects = everything(variant);

  it('validate against ../shared/schemas, unknown fields included', () => {
    const registry = getSchemaRegistry();
    const errors = objects.flatMap((o) => registry.validate(o).errors);
    expect(errors).toEqual([]);
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceAccount', 'NetworkPolicy', 'Deployment']));
    if (variant.mesh) {
      const meshKinds = ['PeerAuthentication', 'AuthorizationPolicy', 'ServiceEntry', 'DestinationRule', 'Gateway', 'VirtualService', 'Sidecar'];
      expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(meshKinds));
    }
  });

  it('all carry the managed-by label and name their claim namespace', () => {
    for (const o of objects) {
      expect({ object: `${o.kind}/${o.metadata.name}`, managedBy: o.metadata.labels?.[MANAGED_BY_LABEL] }).toEqual({
        object: `${o.kind}/${o.metadata.name}`,
        managedBy: MANAGED_BY,
      });
      expect(o.metadata.labels?.['platform.example.org/claim-namespace']).toBe(o.metadata.namespace);
    }
  });

  it('ServiceAccounts: no API token mounted; IRSA annotated with the role, Pod Identity without', () => {
    const accounts = objects.filter((o) => o.kind === 'ServiceAccount');
    expect(accounts.length).toBeGreaterThan(0);
    for (const sa of accounts) {
      expect(sa.automountServiceAccountToken).toBe(false);
      if (variant.mode === 'IRSA') {
        expect(sa.metadata.annotations?.[IRSA_ROLE_ANNOTATION]).toMatch(/^arn:aws:iam::[0-9]{12}:role\//);
        expect(sa.metadata.annotations?.['eks.amazonaws.com/sts-regional-endpoints']).toBe('true');
      } else {
        expect(sa.metadata.annotations ?? {}).toEqual({});
      }
    }
  });

  it('example Deployments follow the pod-security pattern and run as the consumer', () => {
    for (const m of exampleModels(variant)) {
      const deployments = (claimObjects(m).examples as Obj[]).filter((o) => o.kind === 'Deployment');
      expect(deployments).toHaveLength(m.spec.consumers.length);
      m.spec.consumers.forEach((consumer, i) => {
        const d = deployments[i] as Obj;
        const pod = d.spec.template.spec;
        expect(d.spec.replicas).toBe(0);
        expect(pod.serviceAccountName).toBe(consumer.serviceAccount);
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(d.spec.template.metadata.labels).toEqual(consumerPodLabels(m.identity, consumer));
        expect(d.spec.selector.matchLabels).toEqual(consumerPodLabels(m.identity, consumer));
        expect(pod.securityContext.runAsNonRoot).toBe(true);
        for (const c of pod.containers) {
          expect(c.securityContext).toMatchObject({
            runAsNonRoot: true,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          });
          expect(c.securityContext.runAsUser).toBeGreaterThan(0);
          for (const kind of ['requests', 'limits']) expect(Object.keys(c.resources[kind]).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
        }
        const inMesh = m.identity.claimNamespace in m.network.mesh.namespaces;
        const excluded = d.spec.template.metadata.annotations?.['traffic.sidecar.istio.io/excludeOutboundIPRanges'];
        expect(excluded).toBe(inMesh && variant.mode === 'PodIdentity' ? m.network.podIdentityAgent.cidrs.join(',') : undefined);
      });
    }
  });

  if (variant.mesh) {
    it('mesh: STRICT mTLS namespace-wide, only named callers, TLS origination at the gateway, mTLS to it', () => {
      const peer = objects.filter((o) => o.kind === 'PeerAuthentication');
      expect(peer.map((p) => [p.metadata.namespace, p.spec.mtls.mode, p.spec.selector]).sort()).toEqual(
        Object.keys(variant.mesh ?? {})
          .sort()
          .map((ns) => [ns, 'STRICT', undefined]),
      );
      for (const ap of objects.filter((o) => o.kind === 'AuthorizationPolicy')) {
        const consumer = ap.spec.selector.matchLabels['platform.example.org/bucket-consumer'];
        const callers = variant.mesh?.[ap.metadata.namespace as string]?.[consumer] ?? [];
        expect(ap.spec.action).toBe('ALLOW');
        expect(ap.spec.rules ?? []).toEqual(callers.length ? [{ from: [{ source: { principals: callers } }] }] : []);
      }
      const tls = objects.filter((o) => o.kind === 'DestinationRule' && o.spec.host.endsWith('.amazonaws.com'));
      expect(tls.length).toBeGreaterThan(0);
      for (const dr of tls)
        expect(dr.spec.trafficPolicy.portLevelSettings).toEqual([
          { port: { number: 443 }, tls: { mode: 'SIMPLE', sni: dr.spec.host, insecureSkipVerify: false } },
        ]);
      const toGateway = objects.filter((o) => o.kind === 'DestinationRule' && o.spec.host.endsWith('.svc.cluster.local'));
      for (const dr of toGateway) for (const subset of dr.spec.subsets) expect(subset.trafficPolicy.portLevelSettings[0].tls.mode).toBe('ISTIO_MUTUAL');
      // Every S3 host a VirtualService routes has a gateway subset in its namespace.
      for (const vs of objects.filter((o) => o.kind === 'VirtualService')) {
        const subset = vs.spec.http[0].route[0].destination.subset;
        const gatewayRule = toGateway.find((dr) => dr.metadata.namespace === vs.metadata.namespace);
        expect(gatewayRule?.spec.subsets.find((s: { name: string }) => s.name === subset)?.trafficPolicy.portLevelSettings[0].tls.sni).toBe(vs.spec.hosts[0]);
      }
    });
  }
});

// The committed example Deployments (not applied by Flux, so the cluster builds never see them).
describe('committed *.example.yaml files', () => {
  const files = listCommittedYamlFiles().filter((f) => /\/generated\/[^/]+\.example\.yaml$/.test(relativeToRepo(f)));

  it('every example Deployment validates against the Kubernetes 1.30 apps/v1 document (unknown fields rejected)', () => {
    const registry = getSchemaRegistry();
    const docs = files.flatMap((f) => loadYamlDocuments(f).map((doc) => ({ file: relativeToRepo(f), doc: doc as Obj })));
    // Examples for the examples and both clusters: 3 claim files each.
    expect(files.length).toBeGreaterThanOrEqual(9);
    expect(docs.length).toBeGreaterThanOrEqual(files.length);
    expect(docs.filter(({ doc }) => doc.kind !== 'Deployment').map(({ file }) => file)).toEqual([]);
    expect(registry.originOf('apps/v1', 'Deployment')).toBe('shared/schemas/kubernetes/k8s-1.30_apis__apps__v1_openapi.json');
    expect(docs.flatMap(({ file, doc }) => registry.validate(doc).errors.map((e) => `${file}: ${e}`))).toEqual([]);
  });
});
