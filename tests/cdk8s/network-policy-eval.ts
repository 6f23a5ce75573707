// A small evaluator of Kubernetes NetworkPolicy semantics (networking.k8s.io/v1), enough to ask
// "may this pod send to / receive from that endpoint?" of generated policies:
//  - a pod is isolated for a direction when a policy of its namespace selects it and lists that
//    direction in policyTypes; then only traffic some rule allows passes (rules are a union);
//  - a peer with podSelector alone means pods of the policy's own namespace; namespaceSelector
//    alone means every pod of matching namespaces; both mean matching pods in matching namespaces;
//  - ipBlock matches addresses in cidr and not in except; ports absent means every port.
import { isIP } from 'node:net';

type Json = Record<string, unknown>;

export interface Pod {
  kind: 'pod';
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
  ip: string;
}

export interface Address {
  kind: 'ip';
  ip: string;
}

export type Endpoint = Pod | Address;
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

export function selects(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const value = labels[e.key];
    const inValues = value !== undefined && (e.values ?? []).includes(value);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function toBigInt(ip: string): { family: 4 | 6; value: bigint } {
  if (isIP(ip) === 4) return { family: 4, value: ip.split('.').reduce((n, o) => (n << 8n) + BigInt(Number(o)), 0n) };
  if (isIP(ip) !== 6) throw new Error(`not an IP address: ${ip}`);
  const [head = '', tail = ''] = ip.includes('::') ? ip.split('::') : [ip, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return { family: 6, value: groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g, 16)), 0n) };
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '0'] = cidr.split('/');
  const a = toBigInt(ip);
  const b = toBigInt(base);
  if (a.family !== b.family) return false;
  const width = a.family === 4 ? 32n : 128n;
  const shift = width - BigInt(Number(bits));
  return a.value >> shift === b.value >> shift;
}

function peerMatches(peer: Json, policyNamespace: string, other: Endpoint): boolean {
  const ipBlock = peer['ipBlock'] as { cidr: string; except?: string[] } | undefined;
  if (ipBlock) return inCidr(other.ip, ipBlock.cidr) && !(ipBlock.except ?? []).some((c) => inCidr(other.ip, c));
  if (other.kind !== 'pod') return false;
  const nsSel = peer['namespaceSelector'] as Selector | undefined;
  const podSel = peer['podSelector'] as Selector | undefined;
  const nsOk = nsSel ? selects(nsSel, other.namespaceLabels) : other.namespace === policyNamespace;
  const podOk = podSel ? selects(podSel, other.labels) : true;
  return nsOk && podOk;
}

function portMatches(ports: Json[] | undefined, protocol: Protocol, port: number): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    const proto = (p['protocol'] as string | undefined) ?? 'TCP';
    const from = p['port'];
    const end = p['endPort'] as number | undefined;
    if (proto !== protocol) return false;
    if (from === undefined) return true;
    if (typeof from !== 'number') throw new Error(`named ports are not modelled: ${String(from)}`);
    return end === undefined ? port === from : port >= from && port <= end;
  });
}

function isPolicy(obj: unknown): obj is Json {
  return typeof obj === 'object' && obj !== null && (obj as Json)['kind'] === 'NetworkPolicy';
}

function policiesFor(policies: unknown[], pod: Pod, direction: 'Ingress' | 'Egress'): Json[] {
  return policies.filter(isPolicy).filter((p) => {
    const meta = p['metadata'] as Json;
    const spec = p['spec'] as Json;
    const types = (spec['policyTypes'] as string[] | undefined) ?? (direction === 'Ingress' ? ['Ingress'] : spec['egress'] ? ['Egress'] : []);
    return meta['namespace'] === pod.namespace && selects(spec['podSelector'] as Selector, pod.labels) && types.includes(direction);
  });
}

/** Whether any of these policies selects the pod (in either direction). */
export function isSelected(policies: unknown[], pod: Pod): boolean {
  return policiesFor(policies, pod, 'Egress').length > 0 || policiesFor(policies, pod, 'Ingress').length > 0;
}

function allowed(policies: unknown[], pod: Pod, other: Endpoint, protocol: Protocol, port: number, direction: 'Ingress' | 'Egress'): boolean {
  const applicable = policiesFor(policies, pod, direction);
  if (applicable.length === 0) return true; // not isolated in this direction
  const rulesKey = direction === 'Egress' ? 'egress' : 'ingress';
  const peersKey = direction === 'Egress' ? 'to' : 'from';
  return applicable.some((p) => {
    const namespace = (p['metadata'] as Json)['namespace'] as string;
    const rules = ((p['spec'] as Json)[rulesKey] as Json[] | undefined) ?? [];
    return rules.some((r) => {
      const peers = r[peersKey] as Json[] | undefined;
      const peerOk = !peers || peers.length === 0 || peers.some((peer) => peerMatches(peer, namespace, other));
      return peerOk && portMatches(r['ports'] as Json[] | undefined, protocol, port);
    });
  });
}

export function egressAllowed(policies: unknown[], pod: Pod, to: Endpoint, protocol: Protocol, port: number): boolean {
  return allowed(policies, pod, to, protocol, port, 'Egress');
}

export function ingressAllowed(policies: unknown[], pod: Pod, from: Endpoint, protocol: Protocol, port: number): boolean {
  return allowed(policies, pod, from, protocol, port, 'Ingress');
}
