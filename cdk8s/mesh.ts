// Istio objects for namespaces in the mesh (README.md, "mTLS, honestly"):
//   pod --(mesh mTLS, ISTIO_MUTUAL)--> egress gateway --(TLS origination, SIMPLE)--> S3.
// The application speaks plain HTTP to the S3 host on port 80 inside the pod; its sidecar wraps it
// in mesh mTLS to the egress gateway, which opens TLS to S3 and checks S3's certificate. Forcing
// mesh mTLS onto S3 itself breaks it: S3 has no client certificates (SigV4 authenticates).
// Two owners: the tenant applies namespace-local objects (beside the claim, exportTo ["."]); the
// platform applies everything the shared egress gateway sees (clusters/<cluster>/mesh/generated):
// Sidecar, Gateway, VirtualService, the S3 ServiceEntry and the TLS origination DestinationRules.
// A tenant-owned object exported to the gateway could claim another tenant's host (issue 19, 1/13).
import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Consumer, PlatformEnvironment } from '../functions/secure-bucket/src/core/index.js';
import type { ClaimModel } from './chart.js';
import { consumerPodLabels, generatedLabels, objectName, PLATFORM_OWNED_LABEL, PLATFORM_OWNED } from './labels.js';
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
  new ApiObject(chart, `authz-${consumer.name}`, {
    apiVersion: SECURITY,
    kind: 'AuthorizationPolicy',
    metadata: { name: objectName(model.identity, consumer.name) },
    spec,
  });
}

/**
 * One claim's whole S3 route, platform-owned, in the claim's namespace: the ServiceEntry naming
 * the S3 hosts, the Gateway server on the shared egress gateway, and per S3 host the VirtualService
 * (sidecar -> gateway -> S3) and the DestinationRule with which the gateway originates TLS to S3
 * and checks S3's certificate. All are exported to the gateway's namespace, so the admission
 * policy (clusters/base/admission) refuses them from tenants; the `tenants` stage applies them.
 */
export class EgressGatewayRouteChart extends Chart {
  constructor(scope: Construct, id: string, model: ClaimModel) {
    super(scope, id, {
      namespace: model.identity.claimNamespace,
      disableResourceNameHashes: true,
      labels: { ...generatedLabels(model.identity), [PLATFORM_OWNED_LABEL]: PLATFORM_OWNED },
    });
    const { identity, network } = model;
    const gateway = network.mesh.egressGateway;
    const hosts = s3Hosts(identity, model.spec, model.env);
    const gatewayName = objectName(identity, 'egress');
    new ApiObject(this, 's3-service-entry', {
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
      // insecureSkipVerify spelt out: the gateway checks S3's certificate against the system CAs.
      new ApiObject(this, `s3-tls-${key}`, {
        apiVersion: NETWORKING,
        kind: 'DestinationRule',
        metadata: { name: objectName(identity, key, 'tls') },
        spec: {
          host,
          exportTo: exportToGateway(model),
          trafficPolicy: { portLevelSettings: [{ port: { number: S3_PORT }, tls: { mode: 'SIMPLE', sni: host, insecureSkipVerify: false } }] },
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
    new ApiObject(this, 'sidecar', {
      apiVersion: NETWORKING,
      kind: 'Sidecar',
      metadata: { name: 'default' },
      spec: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } },
    });
  }
}

/** Name of the ConfigMap listing a mesh namespace's registered hosts (the admission policy's params). */
export const REGISTERED_HOSTS = 'bucket-mesh-hosts';

/**
 * The hosts a mesh namespace may name in its own ServiceEntries and DestinationRules: its claims'
 * S3 hosts, the STS host (IRSA) and the egress gateway's Service. Platform-owned: the admission
 * policy reads it as params (a key per host, so CEL checks `host in params.data`; a ConfigMap key
 * cannot hold `*`, so no wildcard ever matches).
 */
export class RegisteredHostsChart extends Chart {
  constructor(scope: Construct, id: string, namespace: string, models: ClaimModel[], labels: Record<string, string>) {
    super(scope, id, { namespace, disableResourceNameHashes: true, labels });
    const first = models[0];
    if (!first) throw new Error(`RegisteredHostsChart ${namespace}: no claims`);
    const data: Record<string, string> = { [first.network.mesh.egressGateway.serviceHost]: 'egress-gateway' };
    for (const m of models) {
      for (const host of s3Hosts(m.identity, m.spec, m.env)) data[host] = 's3';
      if (m.env.identity.mode === 'IRSA') data[stsHost(m.env, m.spec.region)] = 'sts';
    }
    const sorted = Object.fromEntries(Object.entries(data).sort(([a], [b]) => a.localeCompare(b)));
    new ApiObject(this, 'registered-hosts', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: REGISTERED_HOSTS }, data: sorted });
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
    new ApiObject(this, 'peer-authentication', {
      apiVersion: SECURITY,
      kind: 'PeerAuthentication',
      metadata: { name: 'default' },
      spec: { mtls: { mode: 'STRICT' } },
    });
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

/**
 * The STS interface endpoint policy (IRSA): through the cluster's STS endpoint, only this account's
 * roles can be assumed and only this account's principals ask who they are. Without it a pod may
 * assume a role of any account with its own token or keys: an exfiltration route (issue 19, 13).
 */
export function stsEndpointPolicy(env: Pick<PlatformEnvironment, 'accountId' | 'partition'>): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AssumeThisAccountsRoles',
        Effect: 'Allow',
        Principal: '*',
        Action: ['sts:AssumeRoleWithWebIdentity', 'sts:AssumeRole', 'sts:TagSession'],
        Resource: `arn:${env.partition}:iam::${env.accountId}:role/*`,
      },
      {
        Sid: 'CallerIdentityOfThisAccount',
        Effect: 'Allow',
        Principal: '*',
        Action: 'sts:GetCallerIdentity',
        Resource: '*',
        Condition: { StringEquals: { 'aws:PrincipalAccount': env.accountId } },
      },
    ],
  };
}

/**
 * The platform's existing STS interface endpoint, observed and updated (never created or deleted)
 * by provider-aws: only its policy is ours. Applied by the `tenants` stage beside the mesh objects.
 */
export class StsEndpointChart extends Chart {
  constructor(scope: Construct, id: string, env: PlatformEnvironment, endpointId: string, labels: Record<string, string>) {
    super(scope, id, { disableResourceNameHashes: true, labels });
    new ApiObject(this, 'sts-endpoint', {
      apiVersion: 'ec2.aws.upbound.io/v1beta1',
      kind: 'VPCEndpoint',
      metadata: { name: `${env.clusterName}-sts`, annotations: { 'crossplane.io/external-name': endpointId } },
      spec: {
        managementPolicies: ['Observe', 'Update'],
        deletionPolicy: 'Orphan',
        forProvider: {
          region: env.region,
          vpcId: env.network.vpcId,
          serviceName: `com.amazonaws.${env.region}.sts`,
          vpcEndpointType: 'Interface',
          policy: JSON.stringify(stsEndpointPolicy(env)),
        },
      },
    });
  }
}
