// The XRD is code: the apiserver refuses the generated CRDs (and nothing installs) when the
// schema is not structural, a default fails its own schema, or a CEL rule does not compile,
// type-check or fit the cost limits. These tests check each of those here, without a cluster.
// Each check runs for both XRDs (v1 claim API and v2 namespaced API): they serve one schema.
import { describe, it, expect } from '@jest/globals';
import {
  checkRule,
  collectRules,
  compileSchema,
  evaluateRule,
  evaluateRules,
  readYaml,
  schemaNodes,
  CelTypeError,
  UNBOUNDED,
  type Schema,
} from '../lib/cel.js';
import { eachXrd, XRDS } from './xrds.js';

// Limits of the apiextensions-apiserver (k8s.io/apiextensions-apiserver validation and
// k8s.io/apiserver/pkg/apis/cel/config.go).
const STATIC_ESTIMATED_COST_LIMIT = 10_000_000; // per rule, when the CRD is created
const STATIC_ESTIMATED_CRD_COST_LIMIT = 100_000_000; // sum of cost x cardinality over the CRD
const PER_CALL_LIMIT = 1_000_000; // runtime, one evaluation

// The keywords a CRD schema may use (structural schema plus the Kubernetes extensions).
const STRUCTURAL_KEYWORDS = new Set([
  'type',
  'description',
  'properties',
  'items',
  'additionalProperties',
  'required',
  'enum',
  'default',
  'pattern',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'format',
  'nullable',
  'minProperties',
  'maxProperties',
  'title',
  'example',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
]);

function jsonTypeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

describe.each(eachXrd)('%s', (_file, { xrd, root, spec, status }) => {
  const rules = collectRules(root);
  const nodes = schemaNodes(root);
  const specNodes = schemaNodes(spec, 'spec');

  describe('the XRD schema is structural', () => {
    it.each(nodes.map((n) => [n.path || '(root)', n.schema] as const))('%s has a type and only known keywords', (_path, node) => {
      expect(typeof node.type).toBe('string');
      expect(Object.keys(node).filter((k) => !STRUCTURAL_KEYWORDS.has(k))).toEqual([]);
      // properties and additionalProperties exclude each other; false is forbidden outright.
      expect(node.properties !== undefined && node.additionalProperties !== undefined).toBe(false);
      expect(node.additionalProperties).not.toBe(false);
      for (const name of node.required ?? []) expect(Object.keys(node.properties ?? {})).toContain(name);
      for (const value of node.enum ?? []) expect(jsonTypeOf(value)).toBe(node.type);
    });

    it('bounds every string and array of spec, so CEL costs are small', () => {
      const unboundedStrings = specNodes.filter((n) => n.schema.type === 'string' && n.schema.maxLength === undefined && !n.schema.enum).map((n) => n.path);
      const unboundedArrays = specNodes.filter((n) => n.schema.type === 'array' && n.schema.maxItems === undefined).map((n) => n.path);
      expect(unboundedStrings).toEqual([]);
      expect(unboundedArrays).toEqual([]);
    });

    it('uses only regular expressions in RE2 syntax (the apiserver compiles patterns with Go regexp)', () => {
      const patterns = nodes.filter((n) => n.schema.pattern !== undefined);
      expect(patterns.length).toBeGreaterThan(5);
      for (const n of patterns) {
        // @bufbuild/cel's matches() uses an RE2 engine: it refuses lookarounds and backreferences.
        expect({ path: n.path, result: evaluateRule('self.matches(pattern)', { type: 'string' }, '', undefined, { pattern: n.schema.pattern! }) }).toEqual({
          path: n.path,
          result: false,
        });
      }
    });

    it('rejects a Perl-only pattern in that RE2 check (the check can fail)', () => {
      expect(evaluateRule('self.matches(pattern)', { type: 'string' }, 'a', undefined, { pattern: '^(?=a)' })).toEqual({
        error: expect.stringContaining('(?='),
      });
    });

    const defaulted = nodes.filter((n) => n.schema.default !== undefined);
    it.each(defaulted.map((n) => [n.path, n.schema] as const))('the default of %s passes its own schema and CEL rules', (_path, node) => {
      const value = structuredClone(node.default);
      const validate = compileSchema(node);
      expect({ valid: validate(value), errors: validate.errors ?? [] }).toEqual({ valid: true, errors: [] });
      expect(evaluateRules(node, value)).toEqual([]);
    });

    it('keeps the two copies of the transition list schema identical', () => {
      const lifecycle = spec.properties?.['lifecycle'];
      const whole = lifecycle?.properties?.['transitions'];
      const perRule = lifecycle?.properties?.['rules']?.items?.properties?.['transitions'];
      expect(whole).toBeDefined();
      expect(perRule).toEqual(whole);
    });

    it('sizes the literal indexes of the transition-order rules to maxItems', () => {
      const transitions = spec.properties?.['lifecycle']?.properties?.['transitions'] as Schema;
      const indexes = Array.from({ length: (transitions.maxItems ?? 0) - 1 }, (_, i) => i + 1).join(', ');
      for (const r of transitions['x-kubernetes-validations'] ?? []) expect(r.rule).toContain(`[${indexes}]`);
    });
  });

  describe('Crossplane carries the schema into the generated CRDs unchanged', () => {
    // crossplane-runtime v2.3.3 pkg/xcrd/crd.go (genCrdVersion): from the root it keeps the
    // description and x-kubernetes-validations; from spec: required, preserve-unknown-fields,
    // x-kubernetes-validations, oneOf, description, properties; from status: required,
    // x-kubernetes-validations, description, oneOf, properties. Anything else is dropped silently.
    const carried: Record<string, string[]> = {
      root: ['type', 'description', 'x-kubernetes-validations', 'properties'],
      spec: ['type', 'required', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-validations', 'oneOf', 'description', 'properties'],
      status: ['type', 'required', 'x-kubernetes-validations', 'description', 'oneOf', 'properties'],
    };
    it.each<[string, object]>([
      ['root', root],
      ['spec', spec],
      ['status', status],
    ])('%s uses only keywords Crossplane copies', (name, node) => {
      expect(Object.keys(node).filter((k) => !carried[name]!.includes(k))).toEqual([]);
    });

    it('uses no field name Crossplane adds to the XR or claim (it would overwrite ours)', () => {
      // pkg/xcrd/schemas.go: CompositeResourceSpecProps (LegacyCluster), CompositeResourceClaimSpecProps
      // and CompositeResourceStatusProps.
      const crossplaneSpec = [
        'compositionRef',
        'compositionSelector',
        'compositionRevisionRef',
        'compositionRevisionSelector',
        'compositionUpdatePolicy',
        'compositeDeletePolicy',
        'resourceRefs',
        'resourceRef',
        'claimRef',
        'writeConnectionSecretToRef',
        'publishConnectionDetailsTo',
        'crossplane',
      ];
      const crossplaneStatus = ['conditions', 'connectionDetails', 'claimConditionTypes', 'crossplane'];
      expect(Object.keys(spec.properties ?? {}).filter((k) => crossplaneSpec.includes(k))).toEqual([]);
      expect(Object.keys(status.properties ?? {}).filter((k) => crossplaneStatus.includes(k))).toEqual([]);
    });
  });

  describe('the spec has no platform-owned field', () => {
    // Every setting of the EnvironmentConfig is the platform's. Names the claim shares on
    // purpose: region (must equal the platform's), snsTopicArn (the tenant's own topic), and
    // the generic words mode and id.
    const sharedOnPurpose = new Set(['region', 'snsTopicArn', 'mode', 'id']);
    const environment = readYaml<{ data: Record<string, unknown> }>('compositions/examples/environment.yaml');
    const settingsOf = (value: Record<string, unknown>): string[] =>
      Object.entries(value).flatMap(([k, v]) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? settingsOf(v as Record<string, unknown>) : [k]));
    const platformSettings = settingsOf(environment.data).filter((k) => !sharedOnPurpose.has(k));
    const specFieldNames = specNodes.map((n) => n.path.split('.').pop()!.replace('[*]', ''));

    it('shares no setting name with the EnvironmentConfig', () => {
      expect(platformSettings.length).toBeGreaterThan(10); // the file was read
      expect(specFieldNames.filter((name) => platformSettings.includes(name))).toEqual([]);
    });

    it('has no field about accounts, identity providers, boundaries, networks, keys or break-glass', () => {
      const forbidden = /accountId|partition|oidc|issuer|boundary|vpc|endpoint|routeTable|breakGlass|principal|roleArn|rolePath|kmsKey|keyAdmin|provider/i;
      expect(specFieldNames.filter((name) => forbidden.test(name))).toEqual([]);
    });
  });

  describe('every CEL rule compiles, type-checks and fits the cost budget', () => {
    it('has the rules this suite expects (update the tables when adding one)', () => {
      // 31 since issue 23: an expiry inside the last class's minimum stay renders with a warning, not refused.
      expect(rules).toHaveLength(31);
    });

    it.each(rules.map((r) => [r.path, r.rule, r] as const))('%s: %s', (_path, _rule, r) => {
      const { cost } = checkRule(r.rule, r.schema);
      expect(r.message).toMatch(/: .+/); // every message names the fix after a colon
      expect(cost).toBeLessThan(PER_CALL_LIMIT);
      expect(cost * r.cardinality).toBeLessThan(STATIC_ESTIMATED_COST_LIMIT);
    });

    it('keeps the whole CRD under the total static cost limit', () => {
      const total = rules.reduce((sum, r) => sum + checkRule(r.rule, r.schema).cost * r.cardinality, 0);
      expect(total).toBeGreaterThan(0);
      expect(total).toBeLessThan(STATIC_ESTIMATED_CRD_COST_LIMIT);
    });
  });

  describe('printer columns', () => {
    const columns = xrd.spec.versions[0]?.additionalPrinterColumns ?? [];

    it('are BUCKET, REGION, ENCRYPTION and LOCK, none of which Crossplane adds itself', () => {
      // crossplane-runtime v2.3.3 pkg/xcrd/schemas.go: CompositeResourcePrinterColumns and
      // CompositeResourceClaimPrinterColumns.
      const crossplaneColumns = ['SYNCED', 'READY', 'COMPOSITION', 'COMPOSITIONREVISION', 'CONNECTION-SECRET', 'AGE'];
      expect(columns.map((c) => c.name)).toEqual(['BUCKET', 'REGION', 'ENCRYPTION', 'LOCK']);
      expect(columns.filter((c) => crossplaneColumns.includes(c.name))).toEqual([]);
    });

    it.each(columns.map((c) => [c.name, c] as const))('%s points at a status field of its type', (_name, column) => {
      const match = /^\.status\.([A-Za-z]+)$/.exec(column.jsonPath);
      expect(match).not.toBeNull();
      const field = status.properties?.[match![1]!];
      expect(field?.type).toBe(column.type);
    });
  });
});

// The checker itself, once: the schemas are the same file (tests/xrd/single-source.test.ts).
const spec = XRDS[0]!.spec;
describe('the rule checker refuses what the apiserver would refuse', () => {
  const objectLock = spec.properties?.['objectLock'] as Schema;
  const consumers = spec.properties?.['consumers'] as Schema;
  it.each([
    ['a missing field', 'self.retention > 1', /undefined field 'retention'/],
    ['a string compared with an int', 'self.mode == 1', /no matching overload/],
    ['an int field used as a string', "self.days.startsWith('1')", /no matching overload/],
    ['a non-bool result', 'self.days', /must evaluate to bool/],
    ['a Kubernetes list library function', 'self.governanceBypassConsumers.isSorted()', /undeclared reference to 'isSorted'/],
    ['an undeclared variable', 'object.mode == "Compliance"', /undeclared reference to 'object'/],
  ])('%s', (_name, rule, error) => {
    expect(() => checkRule(rule, objectLock)).toThrow(CelTypeError);
    expect(() => checkRule(rule, objectLock)).toThrow(error);
  });

  it('refuses a syntax error', () => {
    expect(() => checkRule('self.mode ==', objectLock)).toThrow();
  });

  it('estimates an unbounded list as the apiserver does, far beyond the budget', () => {
    const unbounded: Schema = { ...consumers, maxItems: undefined };
    const rule = 'self.all(c, self.exists_one(d, d.name == c.name))';
    expect(checkRule(rule, unbounded).cost).toBeGreaterThan(UNBOUNDED * UNBOUNDED);
    expect(checkRule(rule, consumers).cost).toBeLessThan(PER_CALL_LIMIT);
  });
});
