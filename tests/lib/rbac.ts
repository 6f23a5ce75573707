// RBAC objects as the tests read them from the kustomize output, and the authorizer's rule match.
import type { K8sObject } from './kustomize.js';

export interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}
export interface Binding extends K8sObject {
  roleRef: { kind: string; name: string };
  subjects?: Subject[];
}

/** Does one rule grant verb on group/resource? (rbac/v1 RuleAllows: '*' matches anything; resourceNames only narrow.) */
export function ruleAllows(rule: Rule, group: string, resource: string, verb: string): boolean {
  const has = (list: string[] | undefined, value: string) => (list ?? []).includes('*') || (list ?? []).includes(value);
  return has(rule.apiGroups, group) && has(rule.resources, resource) && has(rule.verbs, verb);
}
