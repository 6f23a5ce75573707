// The cdk8s side's platform input: cdk8s/platform.yaml (DNS, credentials endpoints, mesh) plus the
// S3 address ranges of cdk8s/s3-ranges.yaml, narrowed to one cluster. Candidates to move into the
// EnvironmentConfig are the per-cluster fields (stsEndpointCidrs, meshNamespaces).
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import path from 'node:path';
import { load } from 'js-yaml';
import { arrayAt, integerAt, type Json, objectAt, type PlatformEnvironment, requiredString } from '../functions/secure-bucket/src/core/index.js';
import type { RegionRanges } from './s3-ranges.js';

export interface PodPeer {
  namespace: string;
  podLabels: Record<string, string>;
  port: number;
}

export interface MeshNamespace {
  /** Consumer name -> Istio principals allowed to call its pods. */
  callers: Record<string, string[]>;
}

/** Everything the chart needs about one cluster's network. */
export interface ClusterNetwork {
  dns: PodPeer;
  podIdentityAgent: { cidrs: string[]; port: number };
  stsEndpointCidrs: string[];
  /** The platform's STS interface endpoint (IRSA): cdk8s writes its endpoint policy. */
  stsEndpointId?: string;
  /** S3 ranges per region, from ip-ranges.json. */
  s3Ranges: Record<string, RegionRanges>;
  mesh: {
    istiod: PodPeer;
    egressGateway: PodPeer & { serviceHost: string; servicePort: number };
    namespaces: Record<string, MeshNamespace>;
  };
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const PRINCIPAL = /^[a-z0-9.-]+\/ns\/[a-z0-9-]+\/sa\/[a-z0-9.-]+$/;

function cidr(value: unknown, field: string): string {
  const text = requiredString(value, field);
  const [address = '', bits = ''] = text.split('/');
  const max = isIPv4(address) ? 32 : isIPv6(address) ? 128 : -1;
  if (max < 0 || !/^[0-9]{1,3}$/.test(bits) || Number(bits) > max) throw new Error(`${field}: '${text}' is not a CIDR`);
  return text;
}

function labels(value: unknown, field: string): Record<string, string> {
  const obj = objectAt(value, field, true) as Json;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = requiredString(v, `${field}.${k}`, { pattern: LABEL_VALUE });
  if (Object.keys(out).length === 0) throw new Error(`${field}: must name at least one label (an empty selector selects every pod)`);
  return out;
}

function podPeer(value: unknown, field: string): PodPeer {
  const obj = objectAt(value, field, true) as Json;
  return {
    namespace: requiredString(obj['namespace'], `${field}.namespace`),
    podLabels: labels(obj['podLabels'], `${field}.podLabels`),
    port: integerAt(obj['port'], `${field}.port`, 1, 65535) ?? fail(`${field}.port is required`),
  };
}

function fail(message: string): never {
  throw new Error(message);
}

function cidrs(value: unknown, field: string): string[] {
  return arrayAt(value, field, 100).map((v, i) => cidr(v, `${field}[${i}]`));
}

function meshNamespaces(value: unknown, field: string): Record<string, MeshNamespace> {
  const out: Record<string, MeshNamespace> = {};
  for (const [ns, raw] of Object.entries(objectAt(value, field) ?? {})) {
    const callers: Record<string, string[]> = {};
    for (const [consumer, list] of Object.entries(objectAt((objectAt(raw, `${field}.${ns}`) ?? {})['callers'], `${field}.${ns}.callers`) ?? {})) {
      callers[consumer] = arrayAt(list, `${field}.${ns}.callers.${consumer}`, 50).map((p, i) =>
        requiredString(p, `${field}.${ns}.callers.${consumer}[${i}]`, { pattern: PRINCIPAL, hint: 'write cluster.local/ns/<namespace>/sa/<service-account>' }),
      );
    }
    out[ns] = { callers };
  }
  return out;
}

function readRanges(doc: Json): Record<string, RegionRanges> {
  const regions = objectAt(doc['regions'], 's3-ranges.yaml data.regions', true) as Json;
  const out: Record<string, RegionRanges> = {};
  for (const [region, raw] of Object.entries(regions)) {
    const r = objectAt(raw, `regions.${region}`, true) as Json;
    out[region] = { ipv4: cidrs(r['ipv4'], `regions.${region}.ipv4`), ipv6: cidrs(r['ipv6'] ?? [], `regions.${region}.ipv6`) };
  }
  return out;
}

/** Both files are EnvironmentConfigs (where these settings should end up): their `data`. */
function configData(file: string): Json {
  const doc = objectAt(load(readFileSync(file, 'utf8')), path.basename(file), true) as Json;
  return objectAt(doc['data'], `${path.basename(file)} data`, true) as Json;
}

/** Reads platform.yaml and s3-ranges.yaml (both in `dir`) for the cluster of `env`. */
export function loadClusterNetwork(
  env: Pick<PlatformEnvironment, 'clusterName'>,
  dir: string = path.dirname(new URL(import.meta.url).pathname),
): ClusterNetwork {
  const platformDir = resolveSourceDir(dir);
  const doc = configData(path.join(platformDir, 'platform.yaml'));
  const ranges = configData(path.join(platformDir, 's3-ranges.yaml'));
  return readClusterNetwork(doc, readRanges(ranges), env.clusterName);
}

/** The typed reader, separate from the files so tests can vary one setting. */
export function readClusterNetwork(doc: Json, s3Ranges: Record<string, RegionRanges>, clusterName: string): ClusterNetwork {
  const agent = objectAt(doc['podIdentityAgent'], 'podIdentityAgent', true) as Json;
  const mesh = objectAt(doc['mesh'], 'mesh', true) as Json;
  const gateway = objectAt(mesh['egressGateway'], 'mesh.egressGateway', true) as Json;
  const clusters = objectAt(doc['clusters'], 'clusters', true) as Json;
  const cluster = objectAt(clusters[clusterName], `clusters.${clusterName}`);
  if (!cluster) throw new Error(`cdk8s/platform.yaml has no entry clusters.${clusterName}: add one (stsEndpointCidrs, meshNamespaces)`);
  return {
    dns: podPeer(doc['dns'], 'dns'),
    podIdentityAgent: {
      cidrs: cidrs(agent['cidrs'], 'podIdentityAgent.cidrs'),
      port: integerAt(agent['port'], 'podIdentityAgent.port', 1, 65535) ?? 80,
    },
    stsEndpointCidrs: cidrs(cluster['stsEndpointCidrs'] ?? [], `clusters.${clusterName}.stsEndpointCidrs`),
    ...(cluster['stsEndpointId'] === undefined
      ? {}
      : {
          stsEndpointId: requiredString(cluster['stsEndpointId'], `clusters.${clusterName}.stsEndpointId`, {
            pattern: /^vpce-[0-9a-f]{8,17}$/,
            hint: 'use the id of the STS interface endpoint, e.g. vpce-0123456789abcdef0',
          }),
        }),
    s3Ranges,
    mesh: {
      istiod: podPeer(mesh['istiod'], 'mesh.istiod'),
      egressGateway: {
        ...podPeer({ ...gateway, port: gateway['podPort'] }, 'mesh.egressGateway'),
        serviceHost: requiredString(gateway['serviceHost'], 'mesh.egressGateway.serviceHost'),
        servicePort: integerAt(gateway['servicePort'], 'mesh.egressGateway.servicePort', 1, 65535) ?? 443,
      },
      namespaces: meshNamespaces(cluster['meshNamespaces'], `clusters.${clusterName}.meshNamespaces`),
    },
  };
}

/** From dist/cdk8s/ the YAML files are still read from the source folder cdk8s/. */
function resolveSourceDir(dir: string): string {
  const parts = dir.split(path.sep);
  const at = parts.lastIndexOf('dist');
  return at >= 0 ? path.join(parts.slice(0, at).join(path.sep) || path.sep, ...parts.slice(at + 1)) : dir;
}
