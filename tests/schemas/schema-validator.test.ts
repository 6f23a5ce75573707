// The validator every other test relies on: it must accept real objects and reject each kind of
// mistake (unknown field, wrong type, unknown kind) with a message that names the problem.
import { describe, it, expect } from '@jest/globals';
import { createSchemaRegistry, expectValid, getSchemaRegistry, isNonApiDocument } from '../lib/schema-validator.js';

const registry = getSchemaRegistry();

function bucket(forProvider: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 's3.aws.upbound.io/v1beta2',
    kind: 'Bucket',
    metadata: {
      name: 'sales-events',
      labels: { 'platform.example.org/claim': 'sales-events' },
      annotations: { 'crossplane.io/external-name': 'acme-stg-sales-events' },
    },
    spec: {
      forProvider: { region: 'us-east-1', ...forProvider },
      managementPolicies: ['*'],
      deletionPolicy: 'Orphan',
      providerConfigRef: { name: 'default' },
    },
  };
}

const networkPolicy = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'sales-api-egress', namespace: 'team-sales' },
  spec: {
    podSelector: { matchLabels: { app: 'sales-api' } },
    policyTypes: ['Egress'],
    egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/16' } }], ports: [{ protocol: 'TCP', port: 443 }] }],
  },
};

/** The single error of a result, so each case proves exactly one reported problem. */
function onlyError(obj: unknown): string {
  const result = registry.validate(obj);
  expect(result.ok).toBe(false);
  expect(result.errors).toHaveLength(1);
  return result.errors[0] ?? '';
}

describe('provider-aws CRDs', () => {
  it('accepts a valid s3 Bucket v1beta2 (the storage version)', () => {
    expect(registry.validate(bucket({ forceDestroy: false, tags: { team: 'sales' } }))).toEqual({ ok: true, errors: [] });
  });

  it('rejects a misspelt field and names it with its path', () => {
    expect(onlyError(bucket({ forceDestory: false }))).toBe(
      'Bucket/sales-events: /spec/forProvider must NOT have additional properties: unknown field "forceDestory"',
    );
  });

  it('rejects a wrong type', () => {
    expect(onlyError(bucket({ forceDestroy: 'false' }))).toBe('Bucket/sales-events: /spec/forProvider/forceDestroy must be boolean');
  });

  it('rejects an enum value the CRD does not allow', () => {
    const obj = bucket({});
    (obj['spec'] as Record<string, unknown>)['deletionPolicy'] = 'Retain';
    expect(onlyError(obj)).toMatch(/^Bucket\/sales-events: \/spec\/deletionPolicy must be equal to one of the allowed values: \["Orphan","Delete"\]$/);
  });

  it('rejects unknown metadata fields (metadata is checked as ObjectMeta)', () => {
    const obj = bucket({});
    obj['metadata'] = { name: 'sales-events', lables: { a: 'b' } };
    expect(onlyError(obj)).toBe('Bucket/sales-events: /metadata must NOT have additional properties: unknown field "lables"');
  });

  it('requires what the CRD requires', () => {
    const obj = bucket({});
    delete obj['spec'];
    expect(onlyError(obj)).toBe("Bucket/sales-events: / must have required property 'spec'");
  });

  it('allows status only where the CRD has one', () => {
    const withStatus = { ...bucket({}), status: { atProvider: { arn: 'arn:aws:s3:::acme-stg-sales-events' } } };
    expect(registry.validate(withStatus).errors).toEqual([]);
    const environment = { apiVersion: 'apiextensions.crossplane.io/v1beta1', kind: 'EnvironmentConfig', metadata: { name: 'e' }, data: {}, status: {} };
    expect(onlyError(environment)).toBe('EnvironmentConfig/e: / must NOT have additional properties: unknown field "status"');
  });

  it('serves every version a CRD serves, each with its own shape', () => {
    // v1beta1 Bucket still has the old list-shaped fields that v1beta2 moved out of the bucket.
    expect(registry.has('s3.aws.upbound.io/v1beta1', 'Bucket')).toBe(true);
    expect(registry.validate({ ...bucket({}), apiVersion: 's3.aws.upbound.io/v1beta1' }).ok).toBe(true);
    expect(registry.originOf('s3.aws.upbound.io/v1beta2', 'Bucket')).toBe(
      'shared/schemas/provider-aws/s3.aws.upbound.io_buckets.yaml (CRD buckets.s3.aws.upbound.io)',
    );
  });
});

describe('unknown kinds', () => {
  it('fails for a kind no schema defines', () => {
    expect(registry.has('s3.aws.upbound.io/v1beta2', 'Bukket')).toBe(false);
    expect(onlyError({ ...bucket({}), kind: 'Bukket' })).toBe('Bukket/sales-events: no schema for s3.aws.upbound.io/v1beta2 Bukket');
  });

  it('fails for a version the CRD does not serve', () => {
    expect(onlyError({ ...bucket({}), apiVersion: 's3.aws.upbound.io/v1beta3' })).toBe('Bucket/sales-events: no schema for s3.aws.upbound.io/v1beta3 Bucket');
  });

  it('fails for something that is not an object with apiVersion and kind', () => {
    expect(registry.validate(['a']).ok).toBe(false);
    expect(onlyError({ metadata: { name: 'x' } })).toMatch(
      /^<no kind>\/x: not a Kubernetes object \(apiVersion and kind must be strings; if the file is not a manifest, add it to NOT_VALIDATED_AS_OBJECTS/,
    );
  });

  it('fails for allow-listed non-API documents, saying why they have no schema', () => {
    const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['a.yaml'] };
    expect(isNonApiDocument(kustomization)).toBe(true);
    expect(onlyError(kustomization)).toMatch(
      /^Kustomization\/<unnamed>: no schema for kustomize\.config\.k8s\.io\/v1beta1 Kustomization \(not an API object: /,
    );
  });
});

describe('Kubernetes 1.30 OpenAPI kinds', () => {
  it('accepts a NetworkPolicy and a ServiceAccount', () => {
    expect(registry.validate(networkPolicy).errors).toEqual([]);
    const serviceAccount = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'sales-api', namespace: 'team-sales', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/x' } },
      automountServiceAccountToken: false,
    };
    expect(registry.validate(serviceAccount).errors).toEqual([]);
  });

  it('rejects a NetworkPolicy with a misspelt field and a wrong type', () => {
    const bad = { ...networkPolicy, spec: { ...networkPolicy.spec, podSelectr: {}, policyTypes: 'Egress' } };
    const { ok, errors } = registry.validate(bad);
    expect(ok).toBe(false);
    expect(errors).toEqual(
      expect.arrayContaining([
        'NetworkPolicy/sales-api-egress: /spec must NOT have additional properties: unknown field "podSelectr"',
        'NetworkPolicy/sales-api-egress: /spec/policyTypes must be array',
      ]),
    );
  });

  it('rejects a port that is neither integer nor string (int-or-string)', () => {
    const bad = { ...networkPolicy, spec: { ...networkPolicy.spec, egress: [{ ports: [{ port: true }] }] } };
    expect(registry.validate(bad).errors.join('\n')).toContain('/spec/egress/0/ports/0/port must be integer');
  });
});

describe('Kubernetes 1.30 apps, RBAC and policy documents (Deployment, Role..., PodDisruptionBudget)', () => {
  const role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'claims-editor', namespace: 'team-sales' },
    rules: [{ apiGroups: ['platform.example.org'], resources: ['xsecurebucketclaims'], verbs: ['get', 'list', 'create'] }],
  };
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'b', namespace: 'team-sales' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'secure-bucket-tenant' },
    subjects: [{ kind: 'ServiceAccount', name: 'flux-reconciler', namespace: 'team-sales' }],
  };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'fn' },
    spec: {
      selector: { matchLabels: { app: 'fn' } },
      template: {
        metadata: { labels: { app: 'fn' } },
        spec: { containers: [{ name: 'fn', image: 'fn:1.0.0', ports: [{ containerPort: 9443 }], resources: { limits: { memory: '128Mi' } } }] },
      },
    },
  };

  it('take their schemas from shared/schemas, not from an npm package', () => {
    expect(registry.originOf('apps/v1', 'Deployment')).toBe('shared/schemas/kubernetes/k8s-1.30_apis__apps__v1_openapi.json');
    for (const kind of ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']) {
      expect(registry.originOf('rbac.authorization.k8s.io/v1', kind)).toBe(
        'shared/schemas/kubernetes/k8s-1.30_apis__rbac.authorization.k8s.io__v1_openapi.json',
      );
    }
    expect(registry.originOf('policy/v1', 'PodDisruptionBudget')).toBe('shared/schemas/kubernetes/k8s-1.30_apis__policy__v1_openapi.json');
  });

  it('accepts a valid Role and rejects an unknown field and a wrong type in it', () => {
    expect(registry.validate(role).errors).toEqual([]);
    const bad = { ...role, rules: [{ apiGroups: [''], resources: ['secrets'], verb: ['get'], verbs: 'get' }] };
    expect(registry.validate(bad).errors.sort()).toEqual([
      'Role/claims-editor: /rules/0 must NOT have additional properties: unknown field "verb"',
      'Role/claims-editor: /rules/0/verbs must be array',
    ]);
  });

  it('accepts a valid RoleBinding and rejects an unknown field, a wrong type, a missing roleRef', () => {
    expect(registry.validate(binding).errors).toEqual([]);
    expect(onlyError({ ...binding, subjects: [{ ...binding.subjects[0], namepsace: 'team-sales' }] })).toBe(
      'RoleBinding/b: /subjects/0 must NOT have additional properties: unknown field "namepsace"',
    );
    expect(onlyError({ ...binding, subjects: binding.subjects[0] })).toBe('RoleBinding/b: /subjects must be array');
    const { roleRef: _, ...withoutRoleRef } = binding;
    expect(onlyError(withoutRoleRef)).toBe("RoleBinding/b: / must have required property 'roleRef'");
  });

  it('walks deep into a Deployment (pod template, containers) for unknown fields and wrong types', () => {
    expect(registry.validate(deployment).errors).toEqual([]);
    const withContainers = (containers: unknown[]) => ({
      ...deployment,
      spec: { ...deployment.spec, template: { ...deployment.spec.template, spec: { containers } } },
    });
    expect(onlyError(withContainers([{ name: 'fn', image: 'fn:1.0.0', imagePullPolcy: 'Always' }]))).toBe(
      'Deployment/fn: /spec/template/spec/containers/0 must NOT have additional properties: unknown field "imagePullPolcy"',
    );
    expect(onlyError(withContainers([{ name: 'fn', image: 'fn:1.0.0', securityContext: { runAsNonRoot: 'true' } }]))).toBe(
      'Deployment/fn: /spec/template/spec/containers/0/securityContext/runAsNonRoot must be boolean',
    );
    expect(onlyError({ ...deployment, spec: { ...deployment.spec, replicas: '0' } })).toBe('Deployment/fn: /spec/replicas must be integer');
  });

  it('rejects a PodDisruptionBudget with an unknown field', () => {
    const pdb = {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'p' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'fn' } } },
    };
    expect(registry.validate(pdb).errors).toEqual([]);
    expect(onlyError({ ...pdb, spec: { ...pdb.spec, maxUnavailabel: 1 } })).toBe(
      'PodDisruptionBudget/p: /spec must NOT have additional properties: unknown field "maxUnavailabel"',
    );
  });
});

describe('npm fallback kind (CustomResourceDefinition)', () => {
  it('is the only kind checked from npm packages, and rejects an unknown field', () => {
    expect(registry.originOf('apiextensions.k8s.io/v1', 'CustomResourceDefinition')).toMatch(/^npm kubernetes-models/);
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.test.example.org' },
      spec: {
        group: 'test.example.org',
        scope: 'Namespaced',
        names: { kind: 'Widget', plural: 'widgets' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
      },
    };
    expect(registry.validate(crd).errors).toEqual([]);
    expect(onlyError({ ...crd, spec: { ...crd.spec, scoep: 'Cluster' } })).toBe(
      'CustomResourceDefinition/widgets.test.example.org: /spec must NOT have additional properties: unknown field "scoep"',
    );
  });
});

describe('composite resource definitions (Crossplane-generated XR and claim schemas)', () => {
  const xrd = {
    apiVersion: 'apiextensions.crossplane.io/v1',
    kind: 'CompositeResourceDefinition',
    metadata: { name: 'xwidgets.test.example.org' },
    spec: {
      group: 'test.example.org',
      names: { kind: 'XWidget', plural: 'xwidgets' },
      claimNames: { kind: 'Widget', plural: 'widgets' },
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          referenceable: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', required: ['size'], properties: { size: { type: 'integer', minimum: 1 } } },
                status: { type: 'object', properties: { arn: { type: 'string' } } },
              },
            },
          },
        },
      ],
    },
  };
  const local = createSchemaRegistry({ definitions: [xrd] });
  const claim = (spec: Record<string, unknown>, name = 'w'): Record<string, unknown> => ({
    apiVersion: 'test.example.org/v1alpha1',
    kind: 'Widget',
    metadata: { name, namespace: 'team-a' },
    spec,
  });
  const errorsOf = (obj: unknown): string[] => local.validate(obj).errors;

  it('accepts a claim with its own fields and the fields Crossplane adds to claims', () => {
    const spec = {
      size: 2,
      compositeDeletePolicy: 'Foreground',
      compositionSelector: { matchLabels: { tier: 'a' } },
      writeConnectionSecretToRef: { name: 's' },
    };
    expect(errorsOf(claim(spec))).toEqual([]);
    expect(
      errorsOf({
        ...claim({ size: 1 }),
        status: { arn: 'a', conditions: [{ type: 'Ready', status: 'True', reason: 'Available', lastTransitionTime: '2025-01-01T00:00:00Z' }] },
      }),
    ).toEqual([]);
  });

  it('rejects on a claim what only XRs have, misspelt fields and broken user constraints', () => {
    expect(errorsOf(claim({ size: 1, claimRef: { apiVersion: 'a', kind: 'k', name: 'n', namespace: 'x' } }))).toEqual([
      'Widget/w: /spec must NOT have additional properties: unknown field "claimRef"',
    ]);
    expect(errorsOf(claim({ size: 1, compositeDeletePolicy: 'Later' }))).toEqual([
      'Widget/w: /spec/compositeDeletePolicy must be equal to one of the allowed values: ["Background","Foreground"]',
    ]);
    expect(errorsOf(claim({ size: 0, sise: 1 }))).toEqual([
      'Widget/w: /spec must NOT have additional properties: unknown field "sise"',
      'Widget/w: /spec/size must be >= 1',
    ]);
    expect(errorsOf(claim({}))).toEqual(["Widget/w: /spec must have required property 'size'"]);
  });

  it('limits names to 63 characters, as Crossplane does', () => {
    expect(errorsOf(claim({ size: 1 }, 'x'.repeat(64)))).toEqual([`Widget/${'x'.repeat(64)}: /metadata/name must NOT have more than 63 characters`]);
  });

  it('gives the LegacyCluster XR its claimRef, resourceRefs and connection secret reference', () => {
    const xr = {
      apiVersion: 'test.example.org/v1alpha1',
      kind: 'XWidget',
      metadata: { name: 'w-abcde' },
      spec: {
        size: 1,
        claimRef: { apiVersion: 'test.example.org/v1alpha1', kind: 'Widget', name: 'w', namespace: 'team-a' },
        compositionRef: { name: 'widgets' },
        resourceRefs: [{ apiVersion: 's3.aws.upbound.io/v1beta2', kind: 'Bucket', name: 'b' }],
        writeConnectionSecretToRef: { name: 's', namespace: 'crossplane-system' },
      },
    };
    expect(errorsOf(xr)).toEqual([]);
    expect(errorsOf({ ...xr, spec: { ...xr.spec, resourceRef: { apiVersion: 'a', kind: 'k', name: 'n' } } })).toEqual([
      'XWidget/w-abcde: /spec must NOT have additional properties: unknown field "resourceRef"',
    ]);
  });

  it('finds the repo definitions only in the real registry, not the other way round', () => {
    expect(local.has('test.example.org/v1alpha1', 'Widget')).toBe(true);
    expect(registry.has('test.example.org/v1alpha1', 'Widget')).toBe(false);
  });
});

describe('expectValid', () => {
  it('passes silently for a valid object and throws with every error listed', () => {
    expect(() => expectValid(bucket({}))).not.toThrow();
    expect(() => expectValid(bucket({ forceDestory: false, objectLockEnabled: 'yes' }))).toThrow(
      /unknown field "forceDestory"[\s\S]*\/spec\/forProvider\/objectLockEnabled must be boolean|objectLockEnabled must be boolean[\s\S]*unknown field "forceDestory"/,
    );
  });
});
