// Validates Kubernetes objects against the upstream schemas in ../shared/schemas (see its
// SOURCES.md) and the repo's own definitions (XRDs, CRDs), rejecting unknown fields.
//
// The authority for Crossplane objects is the real validator (`crossplane resource validate`,
// tests/upstream/validate.test.ts): rendered managed resources, XRs, claims, XRDs and Compositions
// go there. This one stays for what the real one cannot do: Kubernetes built-in kinds (the CLI
// only strict-decodes them, it has no schema for a Deployment or NetworkPolicy), Flux and Istio
// objects without handing it every CRD, in-process speed for the fuzzers and per-object tests
// (one Go process per object would be seconds), and messages a test can match field by field.
//
//   const registry = getSchemaRegistry();
//   registry.validate(obj)   -> { ok, errors: ['Bucket/x: /spec/forProvider must NOT have ...'] }
//   expectValid(obj)         -> throws with every error listed
//
// Everything is lazy: a CRD file is parsed when one of its kinds is first asked for, a schema
// is compiled on first validation, so a test pays only for the kinds it uses.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import { loadAll } from 'js-yaml';
import { listCommittedYamlFiles, loadYamlDocuments, relativeToRepo, repoRoot, schemasDir } from './repo.js';

type JsonSchema = { [key: string]: unknown };

export interface ValidationResult {
  ok: boolean;
  errors: string[];
}

export interface SchemaRegistry {
  /** Validates one object; errors read `<kind>/<name>: <instancePath> <message>`. */
  validate(obj: unknown): ValidationResult;
  /** Whether a schema exists for this apiVersion and kind (loads, does not compile). */
  has(apiVersion: string, kind: string): boolean;
  /** Where the schema for this apiVersion and kind comes from, for messages. */
  originOf(apiVersion: string, kind: string): string | undefined;
}

/** What ajv (or a precompiled validator) reports, reduced to what the messages need. */
interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string | undefined;
  params: Record<string, unknown>;
}

type ObjectValidator = (obj: unknown) => SchemaError[];

interface SchemaSource {
  origin: string;
  createValidator: () => ObjectValidator;
}

// ---------------------------------------------------------------------------------------------
// Upstream schema files in ../shared/schemas.

/** Folders of upstream CRD YAML files. */
const CRD_FOLDERS = ['crossplane', 'flux', 'istio', 'provider-aws', 'provider-aws-namespaced'];

/** Kubernetes 1.30 OpenAPI v3 documents; each serves the kinds of one API group. */
const KUBERNETES_DOCUMENTS = [
  { id: 'k8s-core', group: '', file: 'kubernetes/k8s-1.30_api__v1_openapi.json' },
  { id: 'k8s-networking', group: 'networking.k8s.io', file: 'kubernetes/k8s-1.30_apis__networking.k8s.io__v1_openapi.json' },
  { id: 'k8s-apps', group: 'apps', file: 'kubernetes/k8s-1.30_apis__apps__v1_openapi.json' },
  { id: 'k8s-rbac', group: 'rbac.authorization.k8s.io', file: 'kubernetes/k8s-1.30_apis__rbac.authorization.k8s.io__v1_openapi.json' },
  { id: 'k8s-policy', group: 'policy', file: 'kubernetes/k8s-1.30_apis__policy__v1_openapi.json' },
  { id: 'k8s-admissionregistration', group: 'admissionregistration.k8s.io', file: 'kubernetes/k8s-1.30_apis__admissionregistration.k8s.io__v1_openapi.json' },
];

/** Every object's metadata is checked with the real ObjectMeta (unknown fields rejected). */
const OBJECT_META_REF = 'k8s-core#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

// ---------------------------------------------------------------------------------------------
// The one kind the project needs that ../shared/schemas does not carry: CustomResourceDefinition
// (the function's Input CRD, and any other CRD the repo ships, is itself an object to check).
// Its schema comes from npm packages generated from the upstream OpenAPI, never written by hand:
//  - `kubernetes-models` (a dependency of the function SDK; Kubernetes 1.27 OpenAPI) ships an
//    ajv-precompiled validator: types, enums, required fields, nested ObjectMeta.
//  - Precompiled code cannot take `additionalProperties: false`, so unknown fields are found with
//    the property lists of `@kubernetes/client-node`'s generated models (OpenAPI v1.34).
const NPM_FALLBACK_KINDS = [
  {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    validator: 'IoK8sApiextensionsApiserverPkgApisApiextensionsV1CustomResourceDefinition',
    model: 'V1CustomResourceDefinition',
  },
] as const;

// ---------------------------------------------------------------------------------------------
// The one allow-list of repo YAML that is not validated as API objects: documents matched by
// apiVersion/kind, whole files matched by path (they must still parse). Anything else without a
// schema is an error, never a pass.
export type NotAnApiObject = { why: string } & ({ apiVersion: string; kind: string } | { path: RegExp });

const PACKAGE_METADATA =
  'Crossplane package metadata (crossplane.yaml, read by `crossplane xpkg build`); no upstream schema in shared/, the repo-YAML test checks its structure';

export const NOT_VALIDATED_AS_OBJECTS: readonly NotAnApiObject[] = [
  {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    why: 'kustomize build input; the GitOps tests build it with `kubectl kustomize` and validate the output',
  },
  { path: /^\.github\/workflows\//, why: 'GitHub Actions workflow, not a Kubernetes object' },
  { path: /(^|\/)kustomization\.ya?ml$/, why: 'kustomize build input (Kustomization or Component; apiVersion/kind are optional there)' },
  { apiVersion: 'meta.pkg.crossplane.io/v1', kind: 'Configuration', why: PACKAGE_METADATA },
  { apiVersion: 'meta.pkg.crossplane.io/v1', kind: 'Function', why: PACKAGE_METADATA },
  { apiVersion: 'meta.pkg.crossplane.io/v1beta1', kind: 'Function', why: `${PACKAGE_METADATA} (older version, still accepted)` },
  {
    path: /^compositions\/schema\/secure-bucket\.yaml$/,
    why: "the XRDs' schema source (an openAPIV3Schema, not an object); tests/xrd check it inside both XRDs",
  },
  { path: /^cdk8s\/platform\.yaml$/, why: 'input data of the cdk8s app (platform network and mesh settings), not a manifest' },
  { path: /^cdk8s\/s3-ranges\.yaml$/, why: 'input data of the cdk8s app (S3 address ranges generated from AWS ip-ranges.json)' },
];

function allowListedDocument(apiVersion: string | undefined, kind: string | undefined): NotAnApiObject | undefined {
  return NOT_VALIDATED_AS_OBJECTS.find((entry) => 'kind' in entry && entry.apiVersion === apiVersion && entry.kind === kind);
}

export function isNonApiDocument(obj: unknown): boolean {
  const { apiVersion, kind } = typeMeta(obj);
  return allowListedDocument(apiVersion, kind) !== undefined;
}

export function isNonApiFile(repoRelativePath: string): boolean {
  return NOT_VALIDATED_AS_OBJECTS.some((entry) => 'path' in entry && entry.path.test(repoRelativePath));
}

// ---------------------------------------------------------------------------------------------
// Unknown fields: the apiserver prunes or (strict field validation) rejects them; ajv only does
// when told. Add `additionalProperties: false` to every object schema that lists properties and
// does not say otherwise. Mutates the schema: callers pass their own parsed copy.

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rejectUnknownFields(schema: JsonSchema): void {
  const properties = schema['properties'];
  if (isSchema(properties) && schema['additionalProperties'] === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) {
    schema['additionalProperties'] = false;
  }
  for (const child of childSchemas(schema)) rejectUnknownFields(child);
}

/** Sub-schemas by keyword, so that a property *named* "properties" is never taken for a schema. */
function childSchemas(schema: JsonSchema): JsonSchema[] {
  const children: unknown[] = [];
  for (const key of ['properties', 'patternProperties', '$defs', 'definitions']) {
    const map = schema[key];
    if (isSchema(map)) children.push(...Object.values(map));
  }
  for (const key of ['allOf', 'anyOf', 'oneOf']) {
    const list = schema[key];
    if (Array.isArray(list)) children.push(...list);
  }
  const items = schema['items'];
  children.push(...(Array.isArray(items) ? items : [items]));
  children.push(schema['additionalProperties'], schema['not']);
  return children.filter(isSchema);
}

/**
 * A CRD version's openAPIV3Schema made into a schema for the whole object: apiVersion and kind
 * allowed, metadata checked as ObjectMeta (plus the CRD's own constraints, e.g. a name length),
 * status only where the CRD has one, unknown fields rejected everywhere.
 */
function objectSchema(openAPIV3Schema: JsonSchema): JsonSchema {
  const root: JsonSchema = structuredClone(openAPIV3Schema);
  const properties = isSchema(root['properties']) ? root['properties'] : {};
  const ownMetadata = properties['metadata'];
  const metadataHasConstraints = isSchema(ownMetadata) && Object.keys(ownMetadata).some((k) => k !== 'type' && k !== 'description');
  root['properties'] = {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    ...properties,
    metadata: metadataHasConstraints
      ? // ObjectMeta already rejects unknown fields; the CRD's own part only adds constraints.
        { allOf: [{ $ref: OBJECT_META_REF }, { ...ownMetadata, additionalProperties: true }] }
      : { $ref: OBJECT_META_REF },
  };
  rejectUnknownFields(root);
  return root;
}

// ---------------------------------------------------------------------------------------------
// Composite resource definitions: Crossplane generates a CRD for the XR and one for the claim,
// adding its own spec and status fields. Ported from crossplane-runtime v2.3.3 pkg/xcrd
// (schemas.go, crd.go: BaseProps, CompositeResourceSpecProps, CompositeResourceClaimSpecProps,
// CompositeResourceStatusProps, genCrdVersion), the version Crossplane v2.3.4 pins.
// Defaults and printer columns are left out: they do not change what is valid.

type XrdScope = 'LegacyCluster' | 'Cluster' | 'Namespaced';

const stringProp = (): JsonSchema => ({ type: 'string' });
const nameReference = (): JsonSchema => ({ type: 'object', required: ['name'], properties: { name: stringProp() } });
const labelSelector = (): JsonSchema => ({
  type: 'object',
  required: ['matchLabels'],
  properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } },
});
const stringEnum = (...values: string[]): JsonSchema => ({ type: 'string', enum: values });
const objectOfStrings = (required: string[], names: string[]): JsonSchema => ({
  type: 'object',
  required,
  properties: Object.fromEntries(names.map((name) => [name, stringProp()])),
});

function compositeSpecProps(scope: XrdScope): JsonSchema {
  const refFields = scope === 'Namespaced' ? ['apiVersion', 'name', 'kind'] : ['apiVersion', 'name', 'namespace', 'kind'];
  const props: JsonSchema = {
    compositionRef: nameReference(),
    compositionSelector: labelSelector(),
    compositionRevisionRef: nameReference(),
    compositionRevisionSelector: labelSelector(),
    compositionUpdatePolicy: stringEnum('Automatic', 'Manual'),
    resourceRefs: { type: 'array', items: objectOfStrings(['apiVersion', 'kind'], refFields) },
  };
  if (scope !== 'LegacyCluster') return { crossplane: { type: 'object', properties: props } };
  props['claimRef'] = objectOfStrings(['apiVersion', 'kind', 'namespace', 'name'], ['apiVersion', 'kind', 'namespace', 'name']);
  props['writeConnectionSecretToRef'] = objectOfStrings(['name', 'namespace'], ['name', 'namespace']);
  return props;
}

function claimSpecProps(): JsonSchema {
  return {
    compositionRef: nameReference(),
    compositionSelector: labelSelector(),
    compositionRevisionRef: nameReference(),
    compositionRevisionSelector: labelSelector(),
    compositionUpdatePolicy: stringEnum('Automatic', 'Manual'),
    compositeDeletePolicy: stringEnum('Background', 'Foreground'),
    resourceRef: objectOfStrings(['apiVersion', 'kind', 'name'], ['apiVersion', 'kind', 'name']),
    writeConnectionSecretToRef: objectOfStrings(['name'], ['name']),
  };
}

function compositeStatusProps(scope: XrdScope): JsonSchema {
  const props: JsonSchema = {
    conditions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['lastTransitionTime', 'reason', 'status', 'type'],
        properties: {
          lastTransitionTime: { type: 'string', format: 'date-time' },
          message: stringProp(),
          reason: stringProp(),
          status: stringProp(),
          type: stringProp(),
          observedGeneration: { type: 'integer', format: 'int64' },
        },
      },
    },
  };
  if (scope === 'LegacyCluster') {
    props['connectionDetails'] = { type: 'object', properties: { lastPublishedTime: { type: 'string', format: 'date-time' } } };
    props['claimConditionTypes'] = { type: 'array', items: stringProp() };
  }
  return props;
}

/** genCrdVersion: Crossplane's base object plus the XRD's spec and status (nothing else of its root). */
function generatedVersionSchema(xrdSchema: JsonSchema, specProps: JsonSchema, statusProps: JsonSchema): JsonSchema {
  const own = structuredClone(xrdSchema);
  const ownProperties = isSchema(own['properties']) ? own['properties'] : {};
  const ownSpec = isSchema(ownProperties['spec']) ? ownProperties['spec'] : {};
  const ownStatus = isSchema(ownProperties['status']) ? ownProperties['status'] : {};
  const ownMetadata = isSchema(ownProperties['metadata']) ? ownProperties['metadata'] : {};
  const ownName = isSchema(ownMetadata['properties']) ? ownMetadata['properties']['name'] : undefined;
  const ownMaxLength = isSchema(ownName) && typeof ownName['maxLength'] === 'number' ? ownName['maxLength'] : Infinity;

  const spec: JsonSchema = { type: 'object', properties: { ...specProps, ...asSchema(ownSpec['properties']) } };
  copyKeys(ownSpec, spec, ['required', 'x-kubernetes-preserve-unknown-fields', 'oneOf']);
  const status: JsonSchema = { type: 'object', properties: { ...statusProps, ...asSchema(ownStatus['properties']) } };
  copyKeys(ownStatus, status, ['required', 'oneOf']);
  return {
    type: 'object',
    required: ['spec'],
    properties: {
      apiVersion: stringProp(),
      kind: stringProp(),
      metadata: { type: 'object', properties: { name: { type: 'string', maxLength: Math.min(63, ownMaxLength) } } },
      spec,
      status,
    },
  };
}

function asSchema(value: unknown): JsonSchema {
  return isSchema(value) ? value : {};
}

function copyKeys(from: JsonSchema, to: JsonSchema, keys: string[]): void {
  for (const key of keys) if (from[key] !== undefined) to[key] = from[key];
}

interface DefinedVersion {
  apiVersion: string;
  kind: string;
  openAPIV3Schema: JsonSchema;
  what: string;
}

/** The XR kind and (with claimNames) the claim kind of every version of an XRD. */
function compositeDefinitionVersions(xrd: JsonSchema): DefinedVersion[] {
  const spec = asSchema(xrd['spec']);
  const group = String(spec['group']);
  const isV1 = xrd['apiVersion'] === 'apiextensions.crossplane.io/v1';
  const scope = (spec['scope'] ?? (isV1 ? 'LegacyCluster' : 'Namespaced')) as XrdScope;
  const xrKind = String(asSchema(spec['names'])['kind']);
  const claimNames = spec['claimNames'];
  const versions = Array.isArray(spec['versions']) ? spec['versions'].filter(isSchema) : [];
  return versions.flatMap((version) => {
    const schema = asSchema(asSchema(version['schema'])['openAPIV3Schema']);
    const apiVersion = `${group}/${String(version['name'])}`;
    const defined: DefinedVersion[] = [
      {
        apiVersion,
        kind: xrKind,
        openAPIV3Schema: generatedVersionSchema(schema, compositeSpecProps(scope), compositeStatusProps(scope)),
        what: `composite resource of XRD ${nameOf(xrd)}`,
      },
    ];
    if (isSchema(claimNames)) {
      defined.push({
        apiVersion,
        kind: String(claimNames['kind']),
        // Claims are namespaced and report the LegacyCluster status fields (crd.go).
        openAPIV3Schema: generatedVersionSchema(schema, claimSpecProps(), compositeStatusProps('LegacyCluster')),
        what: `claim of XRD ${nameOf(xrd)}`,
      });
    }
    return defined;
  });
}

function customResourceDefinitionVersions(crd: JsonSchema): DefinedVersion[] {
  const spec = asSchema(crd['spec']);
  const kind = String(asSchema(spec['names'])['kind']);
  const versions = Array.isArray(spec['versions']) ? spec['versions'].filter(isSchema) : [];
  return versions.map((version) => ({
    apiVersion: `${String(spec['group'])}/${String(version['name'])}`,
    kind,
    openAPIV3Schema: asSchema(asSchema(version['schema'])['openAPIV3Schema']),
    what: `CRD ${nameOf(crd)}`,
  }));
}

function isCustomResourceDefinition(doc: unknown): doc is JsonSchema {
  const { apiVersion, kind } = typeMeta(doc);
  return apiVersion === 'apiextensions.k8s.io/v1' && kind === 'CustomResourceDefinition';
}

function isCompositeResourceDefinition(doc: unknown): doc is JsonSchema {
  const { apiVersion, kind } = typeMeta(doc);
  return /^apiextensions\.crossplane\.io\/v[12]$/.test(apiVersion ?? '') && kind === 'CompositeResourceDefinition';
}

// ---------------------------------------------------------------------------------------------
// npm fallback kinds: precompiled validators plus an unknown-field walk over generated models.

type AttributeTypeMap = { baseName: string; type: string }[];
interface ModelClass {
  getAttributeTypeMap(): AttributeTypeMap;
}

const CLIENT_NODE_MODELS = '@kubernetes/client-node/dist/gen/models/';
const ARRAY_TYPE = /^Array<(.+)>$/;
const MAP_TYPE = /^\{ \[key: string\]: (.+); \}$/;

/** The model names an attribute type refers to (`Array<V1PolicyRule>` -> V1PolicyRule). */
function referencedModel(type: string): string {
  const inner = ARRAY_TYPE.exec(type)?.[1] ?? MAP_TYPE.exec(type)?.[1];
  return inner === undefined ? type : referencedModel(inner);
}

/**
 * Imports one module at a time: jest's ESM loader fails ("not in cache") when parallel imports
 * share a dependency.
 */
async function importEach<T>(specifiers: readonly string[]): Promise<T[]> {
  const modules: T[] = [];
  for (const specifier of specifiers) modules.push((await import(specifier)) as T);
  return modules;
}

/** Loads the generated model classes reachable from the roots (each file imports nothing). */
async function loadModelClosure(roots: readonly string[]): Promise<Map<string, AttributeTypeMap>> {
  const models = new Map<string, AttributeTypeMap>();
  let frontier = [...new Set(roots)];
  while (frontier.length > 0) {
    const modules = await importEach<Record<string, ModelClass>>(frontier.map((name) => `${CLIENT_NODE_MODELS}${name}.js`));
    const next = new Set<string>();
    frontier.forEach((name, i) => {
      const model = modules[i]?.[name];
      if (model === undefined) throw new Error(`@kubernetes/client-node has no model ${name}`);
      const attributes = model.getAttributeTypeMap();
      models.set(name, attributes);
      for (const { type } of attributes) {
        const ref = referencedModel(type);
        // Model names start with a group/version prefix (V1..., Core..., Apps...); the rest are primitives.
        if (/^[A-Z]/.test(ref) && !['Date', 'IntOrString'].includes(ref) && !models.has(ref)) next.add(ref);
      }
    });
    frontier = [...next].filter((name) => !models.has(name));
  }
  return models;
}

function unknownFieldErrors(value: unknown, type: string, models: Map<string, AttributeTypeMap>, at: string): SchemaError[] {
  const arrayOf = ARRAY_TYPE.exec(type)?.[1];
  if (arrayOf !== undefined) {
    return Array.isArray(value) ? value.flatMap((item, i) => unknownFieldErrors(item, arrayOf, models, `${at}/${i}`)) : [];
  }
  const mapOf = MAP_TYPE.exec(type)?.[1];
  const attributes = models.get(type);
  if (!isSchema(value) || (mapOf === undefined && attributes === undefined)) return [];
  if (mapOf !== undefined) {
    return Object.entries(value).flatMap(([key, item]) => unknownFieldErrors(item, mapOf, models, `${at}/${key}`));
  }
  const known = new Map((attributes ?? []).map((attribute) => [attribute.baseName, attribute.type]));
  return Object.entries(value).flatMap(([key, item]): SchemaError[] => {
    const itemType = known.get(key);
    if (itemType === undefined) {
      return [{ instancePath: at, keyword: 'additionalProperties', params: { additionalProperty: key }, message: 'must NOT have additional properties' }];
    }
    return unknownFieldErrors(item, itemType, models, `${at}/${key}`);
  });
}

type PrecompiledValidate = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

// Loaded once per module instance: validate() is synchronous and these are ES modules.
const npmFallbackModels = await loadModelClosure(NPM_FALLBACK_KINDS.map((entry) => entry.model));
const npmFallbackValidatorModules = await importEach<{ validate: PrecompiledValidate }>(
  NPM_FALLBACK_KINDS.map((entry) => `kubernetes-models/_schemas/${entry.validator}`),
);
const npmFallbackValidators = new Map(NPM_FALLBACK_KINDS.map((entry, i) => [entry.validator, npmFallbackValidatorModules[i]?.validate]));

function npmFallbackValidator(entry: (typeof NPM_FALLBACK_KINDS)[number]): ObjectValidator {
  const validate = npmFallbackValidators.get(entry.validator);
  if (validate === undefined) throw new Error(`kubernetes-models has no validator ${entry.validator}`);
  return (obj) => {
    const typeErrors = validate(obj) ? [] : (validate.errors ?? []);
    return [...typeErrors, ...unknownFieldErrors(obj, entry.model, npmFallbackModels, '')];
  };
}

// ---------------------------------------------------------------------------------------------
// The registry.

function typeMeta(obj: unknown): { apiVersion?: string; kind?: string } {
  if (!isSchema(obj)) return {};
  const apiVersion = typeof obj['apiVersion'] === 'string' ? obj['apiVersion'] : undefined;
  const kind = typeof obj['kind'] === 'string' ? obj['kind'] : undefined;
  return { apiVersion, kind };
}

function nameOf(obj: unknown): string {
  const metadata = isSchema(obj) ? asSchema(obj['metadata']) : {};
  return typeof metadata['name'] === 'string' ? metadata['name'] : '<unnamed>';
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

const keyOf = (apiVersion: string, kind: string): string => `${apiVersion} ${kind}`;

interface CrdFile {
  file: string;
  /** `spec.group` read from the text without parsing; checked against the parsed CRD. */
  groupHint: string | undefined;
  text: string;
  parsed: boolean;
}

function describeError(error: SchemaError): string {
  const at = error.instancePath === '' ? '/' : error.instancePath;
  const params = error.params;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${at} must NOT have additional properties: unknown field "${String(params['additionalProperty'])}"`;
    case 'enum':
      return `${at} must be equal to one of the allowed values: ${JSON.stringify(params['allowedValues'])}`;
    case 'required':
      return `${at} must have required property '${String(params['missingProperty'])}'`;
    case 'type':
      return `${at} must be ${String(params['type'])}`;
    default:
      return `${at} ${error.message ?? `fails ${error.keyword} ${JSON.stringify(params)}`}`;
  }
}

class LazySchemaRegistry implements SchemaRegistry {
  private readonly ajv: Ajv;
  private readonly sources = new Map<string, SchemaSource>();
  private readonly validators = new Map<string, ObjectValidator>();
  private readonly loadedDocuments = new Set<string>();
  private readonly crdFiles: CrdFile[];
  private repoDefinitionsLoaded = false;

  constructor(private readonly options: RegistryOptions = {}) {
    // strict:false: the schemas carry x-kubernetes-* keywords. allErrors: list every unknown field.
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormatsPlugin.default(this.ajv); // date-time, int32, int64, double, byte, email, ...
    this.ajv.addFormat('int-or-string', true); // the k8s documents put it beside oneOf [integer, string]
    // Kubernetes' "duration" is Go's time.Duration ("1h30m"), not ISO 8601 as in ajv-formats.
    this.ajv.addFormat('duration', /^[-+]?((\d+(\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h))+$|^0$/);
    if (!existsSync(schemasDir)) {
      throw new Error(`upstream schemas not found at ${schemasDir}: check out the shared folder beside the repo or set SHARED_DIR`);
    }
    this.crdFiles = CRD_FOLDERS.flatMap((folder) => {
      const dir = path.join(schemasDir, folder);
      return readdirSync(dir)
        .filter((name) => /\.ya?ml$/.test(name))
        .map((name) => {
          const text = readFileSync(path.join(dir, name), 'utf8');
          return { file: `${folder}/${name}`, groupHint: /^ {2}group:\s*(\S+)\s*$/m.exec(text)?.[1], text, parsed: false };
        });
    });
  }

  has(apiVersion: string, kind: string): boolean {
    return this.resolve(apiVersion, kind) !== undefined;
  }

  originOf(apiVersion: string, kind: string): string | undefined {
    return this.resolve(apiVersion, kind)?.origin;
  }

  validate(obj: unknown): ValidationResult {
    const { apiVersion, kind } = typeMeta(obj);
    const subject = `${kind ?? '<no kind>'}/${nameOf(obj)}`;
    if (apiVersion === undefined || kind === undefined) {
      const hint = 'if the file is not a manifest, add it to NOT_VALIDATED_AS_OBJECTS in tests/lib/schema-validator.ts';
      return { ok: false, errors: [`${subject}: not a Kubernetes object (apiVersion and kind must be strings; ${hint})`] };
    }
    const validator = this.validatorFor(apiVersion, kind);
    if (validator === undefined) {
      const nonApi = allowListedDocument(apiVersion, kind);
      const note = nonApi === undefined ? '' : ` (not an API object: ${nonApi.why})`;
      return { ok: false, errors: [`${subject}: no schema for ${apiVersion} ${kind}${note}`] };
    }
    const errors = [...new Set(validator(obj).map((error) => `${subject}: ${describeError(error)}`))];
    return { ok: errors.length === 0, errors };
  }

  private validatorFor(apiVersion: string, kind: string): ObjectValidator | undefined {
    const key = keyOf(apiVersion, kind);
    const cached = this.validators.get(key);
    if (cached !== undefined) return cached;
    const source = this.resolve(apiVersion, kind);
    if (source === undefined) return undefined;
    const validator = source.createValidator();
    this.validators.set(key, validator);
    return validator;
  }

  /** Finds the schema source, loading as little as possible, most specific place first. */
  private resolve(apiVersion: string, kind: string): SchemaSource | undefined {
    const key = keyOf(apiVersion, kind);
    const group = groupOf(apiVersion);
    const attempts = [
      () => this.loadKubernetesDocumentFor(group),
      () => this.registerNpmFallbacks(),
      () => this.parseCrdFiles((file) => file.groupHint === group, kind),
      () => this.loadRepoDefinitions(),
      () => this.parseCrdFiles((file) => file.groupHint === undefined, kind),
    ];
    for (const attempt of attempts) {
      const found = this.sources.get(key);
      if (found !== undefined) return found;
      attempt();
    }
    return this.sources.get(key);
  }

  private register(apiVersion: string, kind: string, source: SchemaSource): void {
    const key = keyOf(apiVersion, kind);
    const existing = this.sources.get(key);
    if (existing !== undefined && existing.origin !== source.origin) {
      throw new Error(`two schemas for ${apiVersion} ${kind}: ${existing.origin} and ${source.origin}`);
    }
    this.sources.set(key, source);
  }

  private registerDefinedVersion(version: DefinedVersion, origin: string): void {
    this.register(version.apiVersion, version.kind, {
      origin: `${origin} (${version.what})`,
      createValidator: () => this.compile(objectSchema(version.openAPIV3Schema)),
    });
  }

  private compile(schema: JsonSchema | string): ObjectValidator {
    this.loadKubernetesDocument('k8s-core'); // ObjectMeta
    const validate: ValidateFunction | undefined = typeof schema === 'string' ? this.ajv.getSchema(schema) : this.ajv.compile(schema);
    if (validate === undefined) throw new Error(`ajv cannot find schema ${String(schema)}`);
    return (obj) => (validate(obj) ? [] : (validate.errors ?? []).map(toSchemaError));
  }

  private loadKubernetesDocumentFor(group: string): void {
    const document = KUBERNETES_DOCUMENTS.find((doc) => doc.group === group);
    if (document !== undefined) this.loadKubernetesDocument(document.id);
  }

  private loadKubernetesDocument(id: string): void {
    if (this.loadedDocuments.has(id)) return;
    this.loadedDocuments.add(id);
    const document = KUBERNETES_DOCUMENTS.find((doc) => doc.id === id);
    if (document === undefined) throw new Error(`unknown Kubernetes document ${id}`);
    // Parsed fresh from the file, so this copy is ours to add additionalProperties:false to.
    const openapi = JSON.parse(readFileSync(path.join(schemasDir, document.file), 'utf8')) as JsonSchema;
    const components = asSchema(asSchema(openapi['components'])['schemas']);
    for (const schema of Object.values(components)) if (isSchema(schema)) rejectUnknownFields(schema);
    this.ajv.addSchema({ components: { schemas: components } }, document.id);
    for (const [name, schema] of Object.entries(components)) {
      const gvks = asSchema(schema)['x-kubernetes-group-version-kind'];
      for (const gvk of Array.isArray(gvks) ? gvks.filter(isSchema) : []) {
        // Shared kinds (DeleteOptions, WatchEvent) list every group; each document serves its own.
        if (gvk['group'] !== document.group) continue;
        const apiVersion = document.group === '' ? String(gvk['version']) : `${document.group}/${String(gvk['version'])}`;
        const ref = `${document.id}#/components/schemas/${name}`;
        this.register(apiVersion, String(gvk['kind']), { origin: `shared/schemas/${document.file}`, createValidator: () => this.compile(ref) });
      }
    }
  }

  private registerNpmFallbacks(): void {
    for (const entry of NPM_FALLBACK_KINDS) {
      if (this.sources.has(keyOf(entry.apiVersion, entry.kind))) continue;
      this.register(entry.apiVersion, entry.kind, {
        origin: `npm kubernetes-models/_schemas/${entry.validator} + @kubernetes/client-node ${entry.model}`,
        createValidator: () => npmFallbackValidator(entry),
      });
    }
  }

  /** Parses the matching CRD files, the likeliest (named after the kind's plural) first, until the kind is found. */
  private parseCrdFiles(matches: (file: CrdFile) => boolean, kind: string): void {
    const singular = kind.toLowerCase();
    const plurals = [`${singular}s`, `${singular}es`, singular.replace(/y$/, 'ies'), singular];
    const likeliness = (file: CrdFile): number => {
      const plural =
        path
          .basename(file.file)
          .replace(/\.ya?ml$/, '')
          .split('_')[1] ?? '';
      return plurals.includes(plural) ? 0 : plural.startsWith(singular) ? 1 : 2;
    };
    const candidates = this.crdFiles.filter((file) => !file.parsed && matches(file)).sort((a, b) => likeliness(a) - likeliness(b));
    for (const file of candidates) {
      const kinds = this.parseCrdFile(file);
      if (kinds.includes(kind)) return;
    }
  }

  private parseCrdFile(file: CrdFile): string[] {
    file.parsed = true;
    const documents = loadAll(file.text, { filename: file.file }).filter(isCustomResourceDefinition);
    return documents.flatMap((crd) => {
      const group = asSchema(crd['spec'])['group'];
      if (file.groupHint !== undefined && group !== file.groupHint) {
        throw new Error(`shared/schemas/${file.file}: spec.group ${String(group)} differs from the first "  group:" line`);
      }
      const versions = customResourceDefinitionVersions(crd);
      for (const version of versions) this.registerDefinedVersion(version, `shared/schemas/${file.file}`);
      return versions.map((version) => version.kind);
    });
  }

  /** XRDs and CRDs anywhere in the repo (or the ones given); files that do not parse are reported by the repo-wide test. */
  private loadRepoDefinitions(): void {
    if (this.repoDefinitionsLoaded) return;
    this.repoDefinitionsLoaded = true;
    if (this.options.definitions !== undefined) {
      this.registerDefinitions(this.options.definitions, 'given definition');
      return;
    }
    for (const file of listCommittedYamlFiles()) {
      // Parsing every file costs more than reading it: look only where a definition can be.
      if (!readFileSync(path.join(repoRoot, file), 'utf8').includes('ResourceDefinition')) continue;
      let documents: unknown[];
      try {
        documents = loadYamlDocuments(file);
      } catch {
        continue;
      }
      this.registerDefinitions(documents, relativeToRepo(file));
    }
  }

  private registerDefinitions(documents: unknown[], where: string): void {
    for (const doc of documents) {
      const versions = isCompositeResourceDefinition(doc)
        ? compositeDefinitionVersions(doc)
        : isCustomResourceDefinition(doc)
          ? customResourceDefinitionVersions(doc)
          : [];
      for (const version of versions) this.registerDefinedVersion(version, where);
    }
  }
}

function toSchemaError(error: ErrorObject): SchemaError {
  return { instancePath: error.instancePath, keyword: error.keyword, message: error.message, params: error.params as Record<string, unknown> };
}

export interface RegistryOptions {
  /** XRD/CRD objects to use instead of the ones in the repo's YAML files (for tests of this module). */
  definitions?: unknown[];
}

/** A fresh registry; most callers want the shared getSchemaRegistry(). */
export function createSchemaRegistry(options: RegistryOptions = {}): SchemaRegistry {
  return new LazySchemaRegistry(options);
}

let registry: SchemaRegistry | undefined;

/** The one registry of this module instance (jest gives each test file its own). */
export function getSchemaRegistry(): SchemaRegistry {
  registry ??= createSchemaRegistry();
  return registry;
}

/** For tests: throws listing every error when the object does not validate. */
export function expectValid(obj: unknown): void {
  const { ok, errors } = getSchemaRegistry().validate(obj);
  if (!ok) throw new Error(`schema validation failed:\n  ${errors.join('\n  ')}`);
}
