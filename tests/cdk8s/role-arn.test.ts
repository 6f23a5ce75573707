// The ServiceAccount's role is exactly the role the function creates: render every example claim
// with the function's core (as Crossplane would call it, random XR name) and compare.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { IRSA_ROLE_ANNOTATION } from '../../cdk8s/chart.js';
import { claimObjects } from '../../cdk8s/synth.js';
import { convergeCore } from '../../functions/secure-bucket/cli/explain/policy-set.js';
import { asClaim, compositeForClaim } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { loadYamlDocuments } from '../lib/repo.js';
import { exampleModels } from './models.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML read deep in assertions; a wrong path fails the assertion
type Deep = any;

type Obj = { kind: string; metadata: { name: string; namespace: string; annotations?: Record<string, string> } };

/** The XR Crossplane would create for the claim, with a random suffix like Crossplane's. */
function compositeOf(file: string): Record<string, unknown> {
  const xr = compositeForClaim(asClaim(loadYamlDocuments(file)[0], file)) as { metadata: { name: string; labels: Record<string, string> } };
  const name = `${xr.metadata.labels['crossplane.io/claim-name']}-${randomBytes(3).toString('hex')}`;
  xr.metadata.name = name;
  xr.metadata.labels['crossplane.io/composite'] = name;
  return xr;
}

function environmentData(mode: 'IRSA' | 'PodIdentity'): Record<string, unknown> {
  const data = structuredClone((loadYamlDocuments('compositions/examples/environment.yaml')[0] as { data: Record<string, Deep> }).data);
  data['identity']['mode'] = mode;
  if (mode === 'PodIdentity') delete data['identity']['oidcIssuer'];
  return data;
}

describe('role ARNs: cdk8s and the function agree', () => {
  it('IRSA: every ServiceAccount names the ARN of the IAM Role the function renders for its consumer', () => {
    const models = exampleModels({ mode: 'IRSA' });
    expect(models.length).toBeGreaterThanOrEqual(3);
    for (const m of models) {
      const { out } = convergeCore(compositeOf(m.claim.file), environmentData('IRSA'));
      const accounts = (claimObjects(m).objects as Obj[]).filter((o) => o.kind === 'ServiceAccount');
      expect(accounts.map((a) => a.metadata.name)).toEqual(m.spec.consumers.map((c) => c.serviceAccount));
      for (const consumer of m.spec.consumers) {
        const role = out.resources[`consumer-${consumer.name}-role`];
        if (!role) throw new Error(`${m.identity.claimName}: the function rendered no role for ${consumer.name}`);
        const forProvider = role.spec['forProvider'] as { path: string };
        const functionArn = `arn:${m.env.partition}:iam::${m.env.accountId}:role${forProvider.path}${role.metadata.annotations?.['crossplane.io/external-name']}`;
        const statusArn = out.status.consumers?.find((c) => c.name === consumer.name)?.roleArn;
        const sa = accounts.find((a) => a.metadata.name === consumer.serviceAccount);
        expect(sa?.metadata.annotations?.[IRSA_ROLE_ANNOTATION]).toBe(functionArn);
        expect(statusArn).toBe(functionArn);
        // The role trusts exactly this ServiceAccount of this namespace.
        expect(JSON.stringify(role.spec['forProvider'])).toContain(`system:serviceaccount:${sa?.metadata.namespace}:${sa?.metadata.name}`);
      }
    }
  });

  it('Pod Identity: the function associates each generated ServiceAccount with the consumer role', () => {
    for (const m of exampleModels({ mode: 'PodIdentity' })) {
      const { out } = convergeCore(compositeOf(m.claim.file), environmentData('PodIdentity'));
      const accounts = (claimObjects(m).objects as Obj[]).filter((o) => o.kind === 'ServiceAccount');
      for (const consumer of m.spec.consumers) {
        const association = out.resources[`consumer-${consumer.name}-pod-identity`]?.spec['forProvider'] as
          { namespace: string; serviceAccount: string; roleArn: string } | undefined;
        const statusArn = out.status.consumers?.find((c) => c.name === consumer.name)?.roleArn;
        const sa = accounts.find((a) => a.metadata.name === consumer.serviceAccount);
        expect(association).toBeDefined();
        expect([association?.namespace, association?.serviceAccount]).toEqual([sa?.metadata.namespace, sa?.metadata.name]);
        expect(association?.roleArn).toBe(statusArn);
        expect(sa?.metadata.annotations ?? {}).toEqual({});
      }
    }
  });
});
