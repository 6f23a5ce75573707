// Evaluates a ValidatingAdmissionPolicy and its binding as the apiserver does, from the committed
// YAML: match rules and namespace selector, matchConditions, paramRef (the object's namespace),
// variables in order, then every validation (false or an evaluation error denies, failurePolicy
// Fail). CEL runs on @bufbuild/cel with the strings extension, like tests/lib/cel.ts.
import { celEnv, isCelError, parse, plan, type CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { K8sObject } from './kustomize.js';

const env = celEnv({ funcs: strings });

interface ResourceRule {
  apiGroups?: string[];
  apiVersions?: string[];
  operations?: string[];
  resources?: string[];
}
interface Expression {
  name?: string;
  expression: string;
  message?: string;
  messageExpression?: string;
}
export interface Policy extends K8sObject {
  spec: {
    matchConstraints: { resourceRules: ResourceRule[] };
    matchConditions?: Expression[];
    variables?: Expression[];
    validations: Expression[];
    paramKind?: { apiVersion: string; kind: string };
  };
}
export interface PolicyBinding extends K8sObject {
  spec: {
    policyName: string;
    validationActions: string[];
    paramRef?: { name: string; namespace?: string; parameterNotFoundAction?: string };
    matchResources?: { namespaceSelector?: { matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>; matchLabels?: Record<string, string> } };
  };
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

export interface AdmissionRequest {
  operation: Operation;
  /** group, version and plural resource name of the request (e.g. networking.istio.io, v1beta1, serviceentries). */
  resource: { group: string; version: string; resource: string };
  kind: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  username: string;
  object?: K8sObject | null;
  oldObject?: K8sObject | null;
}

export interface Decision {
  /** false: the policy did not apply (no match, or a matchCondition was false). */
  matched: boolean;
  allowed: boolean;
  messages: string[];
}

function run(expression: string, bindings: Record<string, CelInput>): unknown {
  const result = plan(env, parse(expression))(bindings);
  return isCelError(result) ? { celError: result.message } : result;
}

const matches = (list: string[] | undefined, value: string) => (list ?? []).some((x) => x === '*' || x === value);

function selects(binding: PolicyBinding, labels: Record<string, string>): boolean {
  const selector = binding.spec.matchResources?.namespaceSelector;
  if (!selector) return true;
  const exprs = selector.matchExpressions ?? [];
  return (
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    exprs.every((e) => {
      const present = e.key in labels;
      if (e.operator === 'Exists') return present;
      if (e.operator === 'DoesNotExist') return !present;
      if (e.operator === 'In') return present && (e.values ?? []).includes(labels[e.key] as string);
      if (e.operator === 'NotIn') return !present || !(e.values ?? []).includes(labels[e.key] as string);
      throw new Error(`unknown selector operator ${e.operator}`);
    })
  );
}

/** JSON -> CEL input (undefined fields dropped, null kept). */
function cel(value: unknown): CelInput {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as CelInput);
}

/** The decision of one policy + binding; `objects` is where params are looked up (e.g. what Flux applies). */
export function admit(policy: Policy, binding: PolicyBinding, request: AdmissionRequest, objects: K8sObject[]): Decision {
  const notMatched = { matched: false, allowed: true, messages: [] };
  if (binding.spec.policyName !== policy.metadata.name) throw new Error(`binding ${binding.metadata.name} is for ${binding.spec.policyName}, not ${policy.metadata.name}`);
  const { group, version, resource } = request.resource;
  const ruleMatch = policy.spec.matchConstraints.resourceRules.some(
    (r) => matches(r.apiGroups, group) && matches(r.apiVersions, version) && matches(r.operations, request.operation) && matches(r.resources, resource),
  );
  if (!ruleMatch || !selects(binding, request.namespaceLabels)) return notMatched;

  const requestValue = {
    operation: request.operation,
    namespace: request.namespace,
    kind: { group, version, kind: request.kind },
    resource: { group, version, resource },
    userInfo: { username: request.username },
  };
  const bindings: Record<string, CelInput> = {
    object: cel(request.operation === 'DELETE' ? null : request.object),
    oldObject: cel(request.operation === 'CREATE' ? null : request.oldObject),
    request: cel(requestValue),
  };
  for (const condition of policy.spec.matchConditions ?? []) {
    const out = run(condition.expression, bindings);
    if (out === false) return notMatched;
    if (out !== true) return { matched: true, allowed: false, messages: [`matchCondition ${condition.name}: ${JSON.stringify(out)}`] };
  }

  let params: K8sObject | null = null;
  if (policy.spec.paramKind) {
    const ref = binding.spec.paramRef;
    if (!ref) throw new Error(`${binding.metadata.name}: paramKind without paramRef`);
    const namespace = ref.namespace ?? request.namespace;
    params = objects.find((o) => o.kind === policy.spec.paramKind?.kind && o.apiVersion === policy.spec.paramKind.apiVersion && o.metadata.name === ref.name && o.metadata.namespace === namespace) ?? null;
    if (params === null) {
      const allowed = ref.parameterNotFoundAction !== 'Deny';
      return { matched: true, allowed, messages: allowed ? [] : [`no params ${namespace}/${ref.name}`] };
    }
  }
  bindings['params'] = cel(params);
  const variables: Record<string, CelInput> = {};
  bindings['variables'] = variables;
  for (const v of policy.spec.variables ?? []) {
    const out = run(v.expression, bindings);
    if (out !== null && typeof out === 'object' && 'celError' in out) return { matched: true, allowed: false, messages: [`variable ${v.name}: ${(out as { celError: string }).celError}`] };
    variables[v.name as string] = out as CelInput;
  }
  const messages: string[] = [];
  for (const validation of policy.spec.validations) {
    const out = run(validation.expression, bindings);
    if (out === true) continue;
    let message = validation.message ?? `failed expression: ${validation.expression}`;
    if (validation.messageExpression) {
      const m = run(validation.messageExpression, bindings);
      if (typeof m === 'string') message = m;
    }
    messages.push(out === false ? message : `${message} (error: ${JSON.stringify(out)})`);
  }
  return { matched: true, allowed: messages.length === 0, messages };
}

/** The plural resource of the kinds these tests write. */
export const RESOURCE: Record<string, string> = {
  ServiceEntry: 'serviceentries',
  DestinationRule: 'destinationrules',
  VirtualService: 'virtualservices',
  Gateway: 'gateways',
  Sidecar: 'sidecars',
  EnvoyFilter: 'envoyfilters',
  WorkloadEntry: 'workloadentries',
  PeerAuthentication: 'peerauthentications',
  AuthorizationPolicy: 'authorizationpolicies',
  RequestAuthentication: 'requestauthentications',
  WasmPlugin: 'wasmplugins',
  Telemetry: 'telemetries',
  HTTPRoute: 'httproutes',
  Pod: 'pods',
  ServiceAccount: 'serviceaccounts',
  XSecureBucketClaim: 'xsecurebucketclaims',
};

/** group, version and resource of an object, from its apiVersion and kind. */
export function resourceOf(obj: Pick<K8sObject, 'apiVersion' | 'kind'>): AdmissionRequest['resource'] {
  const [group, version] = obj.apiVersion.includes('/') ? (obj.apiVersion.split('/') as [string, string]) : ['', obj.apiVersion];
  const resource = RESOURCE[obj.kind];
  if (!resource) throw new Error(`no plural known for ${obj.kind}: add it to RESOURCE in tests/lib/admission.ts`);
  return { group, version, resource };
}
