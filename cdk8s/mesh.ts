// Istio objects for namespaces in the mesh (DESIGN.md, "mTLS, honestly"):
//   pod --(mesh mTLS, ISTIO_MUTUAL)--> egress gateway --(TLS origination, SIMPLE)--> S3.
// The application speaks plain HTTP to the S3 host on port 80 inside the pod; its sidecar wraps it
// in mesh mTLS to the egress gateway, which opens TLS to S3 and checks S3's certificate. Forcing
// mesh mTLS onto S3 itself breaks it: S3 has no client certificates (SigV4 authenticates).
// Two owners: the tenant applies what its role allows (beside the claim); the platform applies
// the Sidecar, Gateway and VirtualService (clusters/<cluster>/mesh/generated), which tenants may not.
import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Consumer } from '../functions/secure-bucket/src/core/index.js';
import type { ClaimModel } from './chart.js';
import { consumerPodLabels, generatedLabels, objectName } from './labels.js';
import { hostKey, s3Hosts, stsHost } from './s3-hosts.js';

const NETWORKING = 'networking.istio.io/v1';
const SECURITY = 'security.istio.io/v1';
const MESH = 'mesh';
/** The plain-HTTP port the application dials; the gateway originates TLS on 443. */
const APP_PORT = 80;
const S3_PORT = 443;

function exportToGateway(model: ClaimModel): string[] {
  return ['.', model.network.mesh.egressGateway.namespace];
}

/** Only the named callers may reach the consumer's pods; none named: an ALLOW policy with no rules allows nothing. */
export function authorizationPolicy(chart: Chart, model: ClaimModel, consumer: Consumer): void {
  const callers = model.network.mesh.namespaces[model.identity.claimNamespace]?.callers[consumer.name] ?? [];
  const spec: Record<string, unknown> = { selector: { matchLabels: consumerPodLabels(model.identity, consumer) }, action: 'ALLOW' };
  if (callers.length > 0) spec['rules'] = [{ from: [{ source: { principals: callers } }] }];
  new ApiObject(chart, `authz-${consumer.name}`, { apiVersion: SECURITY, kind: 'AuthorizationPolicy', metadata: { name: objectName(model.identity, consumer.name) }, spec });
}

/**
 * The tenant's half of the S3 egress route (applied with the claim, tenants may create these):
 * the ServiceEntry naming the S3 hosts and, per host, the DestinationRule with which the gateway
 * originates TLS to S3.
 */
export function s3EgressRoute(chart: Chart, model: ClaimModel): void {
  const { identity } = model;
  const hosts = s3Hosts(identity, model.spec, model.env);
  new ApiObject(chart, 's3-service-entry', {
    apiVersion: NETWORKING,
    kind: 'ServiceEntry',
    metadata: { name: objectName(identity, 's3') },
    spec: {
      hosts,
      exportTo: exportToGateway(model),
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      ports: [
        { number: APP_PORT, name: 'http', protocol: 'HTTP' },
        { number: S3_PORT, name: 'https', protocol: 'HTTPS' },
      ],
    },
  });
  for (const host of hosts) {
    const key = hostKey(host);
    new ApiObject(chart, `s3-tls-${key}`, {
      apiVersion: NETWORKING,
      kind: 'DestinationRule',
      metadata: { name: objectName(identity, key, 'tls') },
      spec: {
        host,
        exportTo: exportToGateway(model),
        trafficPolicy: { portLevelSettings: [{ port: { number: S3_PORT }, tls: { mode: 'SIMPLE', sni: host } }] },
      },
    });
  }
}

/**
 * The platform's half of one claim's route, in the claim's namespace: the Gateway server on the
 * shared egress gateway and per S3 host the VirtualService (sidecar -> gateway -> S3). Tenants get
 * no rights on these kinds: a Gateway may select the shared gateway pods from any namespace and a
 * VirtualService can take over hosts, so the platform's `tenants` stage applies them.
 */
export class EgressGatewayRouteChart extends Chart {
  constructor(scope: Construct, id: string, model: ClaimModel) {
    super(scope, id, { namespace: model.identity.claimNamespace, disableResourceNameHashes: true, labels: generatedLabels(model.identity) });
    const { identity, network } = model;
    const gateway = network.mesh.egressGateway;
    const hosts = s3Hosts(identity, model.spec, model.env);
    const gatewayName = objectName(identity, 'egress');
    new ApiObject(this, 's3-gateway', {
      apiVersion: NETWORKING,
      kind: 'Gateway',
      metadata: { name: gatewayName },
      spec: {
        selector: gateway.podLabels,
        servers: [{ port: { number: gateway.servicePort, name: 'https-mesh', protocol: 'HTTPS' }, hosts, tls: { mode: 'ISTIO_MUTUAL' } }],
      },
    });
    for (const host of hosts) {
      const key = hostKey(host);
      new ApiObject(this, `s3-route-${key}`, {
        apiVersion: NETWORKING,
        kind: 'VirtualService',
        metadata: { name: objectName(identity, key) },
        spec: {
          hosts: [host],
          gateways: [MESH, gatewayName],
          exportTo: exportToGateway(model),
          http: [
            {
              match: [{ gateways: [MESH], port: APP_PORT }],
              route: [{ destination: { host: gateway.serviceHost, subset: key, port: { number: gateway.servicePort } } }],
            },
            {
              match: [{ gateways: [gatewayName], port: gateway.servicePort }],
              route: [{ destination: { host, port: { number: S3_PORT } } }],
            },
          ],
        },
      });
    }
  }
}

/**
 * The namespace's Sidecar, platform-owned like the Gateway: the sidecars pass only hosts of the
 * service registry (services and ServiceEntries), so an unknown external host is dropped by the
 * proxy instead of leaving the pod; S3 is reachable only by the route through the egress gateway.
 * No egress host list: the namespace's other pods may still call services of other namespaces.
 * The NetworkPolicy stays the hard limit (traffic a pod keeps out of its sidecar never sees this).
 */
export class NamespaceSidecarChart extends Chart {
  constructor(scope: Construct, id: string, namespace: string, labels: Record<string, string>) {
    super(scope, id, { namespace, disableResourceNameHashes: true, labels });
    new ApiObject(this, 'sidecar', { apiVersion: NETWORKING, kind: 'Sidecar', metadata: { name: 'default' }, spec: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } } });
  }
}

/**
 * Namespace-wide objects, emitted once per namespace and cluster (beside the namespace's first
 * claim): STRICT mTLS, the mTLS leg to the egress gateway (one subset per S3 host, so the gateway
 * sees the S3 host as SNI), and for IRSA the STS host the sidecars let through to the STS endpoint.
 */
export class NamespaceMeshChart extends Chart {
  constructor(scope: Construct, id: string, namespace: string, models: ClaimModel[], labels: Record<string, string>) {
    super(scope, id, { namespace, disableResourceNameHashes: true, labels });
    const first = models[0];
    if (!first) throw new Error(`NamespaceMeshChart ${namespace}: no claims`);
    new ApiObject(this, 'peer-authentication', { apiVersion: SECURITY, kind: 'PeerAuthentication', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } });
    const hosts = [...new Set(models.flatMap((m) => s3Hosts(m.identity, m.spec, m.env)))].sort();
    new ApiObject(this, 'egress-gateway-mtls', {
      apiVersion: NETWORKING,
      kind: 'DestinationRule',
      metadata: { name: 'bucket-egress-gateway' },
      spec: {
        host: first.network.mesh.egressGateway.serviceHost,
        exportTo: ['.'],
        subsets: hosts.map((host) => ({
          name: hostKey(host),
          trafficPolicy: { portLevelSettings: [{ port: { number: first.network.mesh.egressGateway.servicePort }, tls: { mode: 'ISTIO_MUTUAL', sni: host } }] },
        })),
      },
    });
    const stsHosts = [...new Set(models.filter((m) => m.env.identity.mode === 'IRSA').map((m) => stsHost(m.env, m.spec.region)))].sort();
    if (stsHosts.length > 0) {
      new ApiObject(this, 'sts-service-entry', {
        apiVersion: NETWORKING,
        kind: 'ServiceEntry',
        metadata: { name: 'bucket-sts' },
        spec: { hosts: stsHosts, exportTo: ['.'], location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] },
      });
    }
  }
}
