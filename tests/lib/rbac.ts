// RBAC objects as the tests read them from the kustomize output (what they allow is asked of the
// real authorizer: tests/e2e/tenant-rbac.test.ts).
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
