// Validate objects against a structural CRD schema the way the Kubernetes apiserver does:
// OpenAPI keywords and defaults (ajv) plus `x-kubernetes-validations` CEL rules, evaluated
// with @bufbuild/cel. @bufbuild/cel 0.6 parses and evaluates but does not type-check, so this
// module also has a small checker that types a rule against the schema (the apiserver
// refuses a CRD whose rules name a missing field or mix types) and a conservative static
// cost estimate (the apiserver refuses rules whose estimated cost exceeds its limits).
//
// Kept beside the real validator (`crossplane resource validate`, tests/upstream/validate.test.ts,
// which now checks every committed and rendered claim, XR, XRD and Composition) for what it cannot
// do: type-check and cost-estimate an XRD's rules as the apiserver does when it installs the CRD
// (the CLI evaluates rules, it refuses no CRD), transition rules with oldSelf (it validates with
// oldObj = nil), rule-by-rule assertions on valid and invalid claims in tests/xrd, and evaluation
// fast enough for property tests.
import { isCelError, parse, plan, celEnv, type CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { loadYamlDocuments } from './repo.js';

// ---------------------------------------------------------------- schema model

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

/** One node of an OpenAPI v3 structural schema, as CRDs and XRDs carry it. */
export interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  'x-kubernetes-validations'?: ValidationRule[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  [keyword: string]: unknown;
}

/** A one-document YAML file of the repo (path repo-relative or absolute). */
export function readYaml<T = unknown>(file: string): T {
  const documents = loadYamlDocuments(file);
  if (documents.length !== 1) throw new Error(`${file}: expected one YAML document, found ${documents.length}`);
  return documents[0] as T;
}

interface VersionedSchemaDoc {
  spec: { versions: Array<{ name: string; schema?: { openAPIV3Schema: Schema } }> };
}

/** The openAPIV3Schema of one version of a CRD or a Crossplane XRD. */
export function versionSchema(doc: unknown, version: string): Schema {
  const found = (doc as VersionedSchemaDoc).spec.versions.find((v) => v.name === version);
  if (!found?.schema) throw new Error(`no schema for version ${version}`);
  return found.schema.openAPIV3Schema;
}

/** What the apiserver assumes for a string or list without a bound: the 3 MiB request limit. */
export const UNBOUNDED = 3 * 1024 * 1024;

export interface SchemaNode {
  /** e.g. spec.consumers[*].name */
  path: string;
  schema: Schema;
  /** How many times the node can occur in one object: product of enclosing maxItems. */
  cardinality: number;
}

/** Every node of the tree, parents before children. */
export function schemaNodes(schema: Schema, path = '', cardinality = 1): SchemaNode[] {
  const nodes: SchemaNode[] = [{ path, schema, cardinality }];
  const join = (key: string) => (path === '' ? key : `${path}.${key}`);
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    nodes.push(...schemaNodes(child, join(key), cardinality));
  }
  if (schema.items) {
    nodes.push(...schemaNodes(schema.items, `${path}[*]`, cardinality * (schema.maxItems ?? UNBOUNDED)));
  }
  if (typeof schema.additionalProperties === 'object') {
    const many = cardinality * (schema.maxProperties ?? UNBOUNDED);
    nodes.push(...schemaNodes(schema.additionalProperties, `${path}[*]`, many));
  }
  return nodes;
}

export interface LocatedRule extends ValidationRule {
  path: string;
  schema: Schema;
  cardinality: number;
}

export function collectRules(schema: Schema, path = ''): LocatedRule[] {
  return schemaNodes(schema, path).flatMap((node) =>
    (node.schema['x-kubernetes-validations'] ?? []).map((r) => ({ ...r, path: node.path, schema: node.schema, cardinality: node.cardinality })),
  );
}

// ---------------------------------------------------------------- CEL types from the schema

export type CelT =
  | { kind: 'int' | 'uint' | 'double' | 'bool' | 'bytes' | 'null' | 'dyn' }
  | { kind: 'string'; maxLength: number }
  | { kind: 'list'; elem: CelT; maxItems: number }
  | { kind: 'map'; key: CelT; value: CelT; maxItems: number }
  | { kind: 'object'; fields: Record<string, CelT> };

const DYN: CelT = { kind: 'dyn' };
const BOOL: CelT = { kind: 'bool' };
const INT: CelT = { kind: 'int' };

function stringMaxLength(schema: Schema): number {
  if (schema.maxLength !== undefined) return schema.maxLength;
  const enumStrings = (schema.enum ?? []).filter((v): v is string => typeof v === 'string');
  return enumStrings.length > 0 ? Math.max(...enumStrings.map((v) => v.length)) : UNBOUNDED;
}

/** The CEL type the apiserver declares for `self` at a schema node. */
export function celTypeOf(schema: Schema): CelT {
  if (schema['x-kubernetes-preserve-unknown-fields'] || schema['x-kubernetes-int-or-string']) return DYN;
  switch (schema.type) {
    case 'string':
      return { kind: 'string', maxLength: stringMaxLength(schema) };
    case 'integer':
      return INT;
    case 'number':
      return { kind: 'double' };
    case 'boolean':
      return BOOL;
    case 'array':
      return { kind: 'list', elem: schema.items ? celTypeOf(schema.items) : DYN, maxItems: schema.maxItems ?? UNBOUNDED };
    case 'object':
      if (typeof schema.additionalProperties === 'object') {
        return {
          kind: 'map',
          key: { kind: 'string', maxLength: UNBOUNDED },
          value: celTypeOf(schema.additionalProperties),
          maxItems: schema.maxProperties ?? UNBOUNDED,
        };
      }
      return { kind: 'object', fields: Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, celTypeOf(v)])) };
    default:
      return DYN;
  }
}

function typeName(t: CelT): string {
  switch (t.kind) {
    case 'list':
      return `list(${typeName(t.elem)})`;
    case 'map':
      return `map(${typeName(t.key)}, ${typeName(t.value)})`;
    case 'object':
      return `object{${Object.keys(t.fields).join(',')}}`;
    default:
      return t.kind;
  }
}

function sameType(a: CelT, b: CelT): boolean {
  if (a.kind === 'dyn' || b.kind === 'dyn') return true;
  if (a.kind === 'list' && b.kind === 'list') return sameType(a.elem, b.elem);
  if (a.kind === 'map' && b.kind === 'map') return sameType(a.key, b.key) && sameType(a.value, b.value);
  if (a.kind === 'object' && b.kind === 'object') {
    const keys = Object.keys(a.fields);
    return keys.length === Object.keys(b.fields).length && keys.every((k) => b.fields[k] !== undefined && sameType(a.fields[k]!, b.fields[k]!));
  }
  if (a.kind === 'null' || b.kind === 'null') return a.kind === b.kind || a.kind === 'object' || b.kind === 'object';
  return a.kind === b.kind;
}

/** The more specific of two compatible types (an empty list literal is list(dyn)). */
function unify(a: CelT, b: CelT): CelT {
  if (a.kind === 'dyn') return b;
  if (a.kind === 'list' && b.kind === 'list') {
    return { kind: 'list', elem: unify(a.elem, b.elem), maxItems: Math.max(a.maxItems, b.maxItems) };
  }
  if (a.kind === 'string' && b.kind === 'string') return { kind: 'string', maxLength: Math.max(a.maxLength, b.maxLength) };
  return a;
}

const NUMERIC = new Set(['int', 'uint', 'double']);
const ORDERED = new Set(['int', 'uint', 'double', 'string', 'bytes', 'bool']);

/** Upper bound of the traversal size of a value of this type (for equality and concatenation cost). */
function sizeBound(t: CelT): number {
  switch (t.kind) {
    case 'string':
      return t.maxLength;
    case 'list':
      return t.maxItems * sizeBound(t.elem);
    case 'map':
      return t.maxItems * (sizeBound(t.key) + sizeBound(t.value));
    case 'object':
      return 1 + Object.values(t.fields).reduce((sum, f) => sum + sizeBound(f), 0);
    default:
      return 1;
  }
}

// ---------------------------------------------------------------- checker + cost estimate

type Expr = ReturnType<typeof parse>['expr'];

export interface Checked {
  type: CelT;
  /** Conservative upper bound of the CEL cost of one evaluation. */
  cost: number;
}

export class CelTypeError extends Error {}

type Scope = ReadonlyMap<string, CelT>;

function fail(message: string): never {
  throw new CelTypeError(message);
}

function checkCall(fn: string, args: CelT[], isMethod: boolean): Checked {
  const [a, b, c] = args;
  const anyDyn = args.some((t) => t.kind === 'dyn');
  const signature = `${fn}(${args.map(typeName).join(', ')})`;
  const noOverload = () => fail(`found no matching overload for ${signature}`);
  const strings = args.filter((t): t is Extract<CelT, { kind: 'string' }> => t.kind === 'string');
  // String work is linear in the string length (the apiserver charges 0.1 per character).
  const stringWork = strings.reduce((sum, t) => sum + t.maxLength, 0);
  switch (fn) {
    case '_&&_':
    case '_||_':
      if (args.every((t) => t.kind === 'bool' || t.kind === 'dyn')) return { type: BOOL, cost: 1 };
      return noOverload();
    case '!_':
    case '@not_strictly_false':
      if (a?.kind === 'bool' || a?.kind === 'dyn') return { type: BOOL, cost: 1 };
      return noOverload();
    case '_?_:_':
      if ((a?.kind === 'bool' || a?.kind === 'dyn') && b && c && sameType(b, c)) return { type: unify(b, c), cost: 1 };
      return noOverload();
    case '_==_':
    case '_!=_':
      if (a && b && sameType(a, b)) return { type: BOOL, cost: 1 + Math.min(sizeBound(a), sizeBound(b)) };
      return noOverload();
    case '_<_':
    case '_<=_':
    case '_>_':
    case '_>=_':
      if (a && b && (anyDyn || (NUMERIC.has(a.kind) && NUMERIC.has(b.kind)) || (a.kind === b.kind && ORDERED.has(a.kind)))) {
        return { type: BOOL, cost: 1 + stringWork };
      }
      return noOverload();
    case '_+_':
      if (a && b && sameType(a, b) && (anyDyn || ['int', 'uint', 'double', 'string', 'bytes', 'list'].includes(a.kind))) {
        if (a.kind === 'list' && b.kind === 'list') {
          const joined: CelT = { kind: 'list', elem: unify(a.elem, b.elem), maxItems: a.maxItems + b.maxItems };
          return { type: joined, cost: 1 + joined.maxItems };
        }
        if (a.kind === 'string' && b.kind === 'string') return { type: { kind: 'string', maxLength: a.maxLength + b.maxLength }, cost: 1 + stringWork };
        return { type: unify(a, b), cost: 1 };
      }
      return noOverload();
    case '_-_':
    case '_*_':
    case '_/_':
    case '_%_':
      if (a && b && sameType(a, b) && (anyDyn || (fn === '_%_' ? ['int', 'uint'] : ['int', 'uint', 'double']).includes(a.kind))) {
        return { type: unify(a, b), cost: 1 };
      }
      return noOverload();
    case '-_':
      if (a && (a.kind === 'int' || a.kind === 'double' || a.kind === 'dyn')) return { type: a, cost: 1 };
      return noOverload();
    case '_[_]':
      if (a?.kind === 'list' && (b?.kind === 'int' || b?.kind === 'dyn')) return { type: a.elem, cost: 1 };
      if (a?.kind === 'map' && b && sameType(a.key, b)) return { type: a.value, cost: 1 };
      if (a?.kind === 'dyn') return { type: DYN, cost: 1 };
      return noOverload();
    case '@in':
      if (b?.kind === 'list' && a && sameType(a, b.elem)) return { type: BOOL, cost: 1 + b.maxItems * sizeBound(b.elem) };
      if (b?.kind === 'map' && a && sameType(a, b.key)) return { type: BOOL, cost: 1 };
      if (b?.kind === 'dyn') return { type: BOOL, cost: 1 };
      return noOverload();
    case 'size':
      if (args.length === 1 && a && ['string', 'bytes', 'list', 'map', 'dyn'].includes(a.kind)) return { type: INT, cost: 1 };
      return noOverload();
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      if (isMethod && args.length === 2 && args.every((t) => t.kind === 'string' || t.kind === 'dyn')) return { type: BOOL, cost: 1 + stringWork };
      return noOverload();
    case 'matches':
      // The apiserver charges string length times pattern length for a regex match.
      if (args.length === 2 && args.every((t) => t.kind === 'string' || t.kind === 'dyn')) {
        const [subject, pattern] = strings;
        return { type: BOOL, cost: 1 + (subject?.maxLength ?? UNBOUNDED) * (pattern?.maxLength ?? UNBOUNDED) };
      }
      return noOverload();
    default:
      return fail(`undeclared reference to '${fn}' (only standard CEL is allowed here)`);
  }
}

function checkExpr(expr: Expr, scope: Scope): Checked {
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'constExpr': {
      const constant = kind.value.constantKind;
      switch (constant.case) {
        case 'boolValue':
          return { type: BOOL, cost: 0 };
        case 'int64Value':
          return { type: INT, cost: 0 };
        case 'uint64Value':
          return { type: { kind: 'uint' }, cost: 0 };
        case 'doubleValue':
          return { type: { kind: 'double' }, cost: 0 };
        case 'stringValue':
          return { type: { kind: 'string', maxLength: constant.value.length }, cost: 0 };
        case 'bytesValue':
          return { type: { kind: 'bytes' }, cost: 0 };
        case 'nullValue':
          return { type: { kind: 'null' }, cost: 0 };
        default:
          return fail(`unsupported constant ${String(constant.case)}`);
      }
    }
    case 'identExpr': {
      const type = scope.get(kind.value.name);
      if (!type) return fail(`undeclared reference to '${kind.value.name}'`);
      return { type, cost: 1 };
    }
    case 'selectExpr': {
      const operand = checkExpr(kind.value.operand!, scope);
      const field = kind.value.field;
      const t = operand.type;
      let fieldType: CelT;
      if (t.kind === 'object') {
        const f = t.fields[field];
        if (!f) return fail(`undefined field '${field}' (the schema has: ${Object.keys(t.fields).join(', ') || 'none'})`);
        fieldType = f;
      } else if (t.kind === 'map') {
        fieldType = t.value;
      } else if (t.kind === 'dyn') {
        fieldType = DYN;
      } else {
        return fail(`type '${typeName(t)}' does not support field selection ('${field}')`);
      }
      return { type: kind.value.testOnly ? BOOL : fieldType, cost: operand.cost + 1 };
    }
    case 'callExpr': {
      const { target, function: fn, args } = kind.value;
      const operands = [...(target ? [target] : []), ...args].map((e) => checkExpr(e, scope));
      const call = checkCall(
        fn,
        operands.map((o) => o.type),
        target !== undefined,
      );
      return { type: call.type, cost: call.cost + operands.reduce((sum, o) => sum + o.cost, 0) };
    }
    case 'listExpr': {
      const elements = kind.value.elements.map((e) => checkExpr(e, scope));
      let elem: CelT = DYN;
      for (const e of elements) {
        if (!sameType(elem, e.type)) fail(`list literal mixes ${typeName(elem)} and ${typeName(e.type)}`);
        elem = unify(elem, e.type);
      }
      // The apiserver charges 10 to build a list.
      return { type: { kind: 'list', elem, maxItems: elements.length }, cost: 10 + elements.reduce((s, e) => s + e.cost, 0) };
    }
    case 'structExpr': {
      if (kind.value.messageName) return fail(`message construction '${kind.value.messageName}' is not available`);
      let key: CelT = DYN;
      let value: CelT = DYN;
      let cost = 30; // the apiserver charges 30 to build a map
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case !== 'mapKey') return fail('only map literals are supported');
        const k = checkExpr(entry.keyKind.value, scope);
        const v = checkExpr(entry.value!, scope);
        if (!sameType(key, k.type) || !sameType(value, v.type)) fail('map literal mixes key or value types');
        key = unify(key, k.type);
        value = unify(value, v.type);
        cost += k.cost + v.cost;
      }
      return { type: { kind: 'map', key, value, maxItems: kind.value.entries.length }, cost };
    }
    case 'comprehensionExpr': {
      const c = kind.value;
      const range = checkExpr(c.iterRange!, scope);
      const rt = range.type;
      const iterType = rt.kind === 'list' ? rt.elem : rt.kind === 'map' ? rt.key : rt.kind === 'dyn' ? DYN : fail(`cannot iterate over ${typeName(rt)}`);
      const iterations = rt.kind === 'list' || rt.kind === 'map' ? rt.maxItems : UNBOUNDED;
      const init = checkExpr(c.accuInit!, scope);
      const inner = new Map(scope).set(c.iterVar, iterType).set(c.accuVar, init.type);
      const condition = checkExpr(c.loopCondition!, inner);
      const step = checkExpr(c.loopStep!, inner);
      if (!sameType(init.type, step.type)) fail(`comprehension step ${typeName(step.type)} does not match ${typeName(init.type)}`);
      // A map() or filter() accumulates up to one element per iteration.
      const accu = init.type.kind === 'list' ? { ...unify(init.type, step.type), maxItems: iterations } : unify(init.type, step.type);
      const result = checkExpr(c.result!, new Map(scope).set(c.accuVar, accu));
      const cost = range.cost + init.cost + iterations * (condition.cost + step.cost) + result.cost;
      return { type: result.type, cost };
    }
    default:
      return fail(`unsupported expression ${String(kind.case)}`);
  }
}

function referencedIdents(expr: Expr, found = new Set<string>()): Set<string> {
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'identExpr':
      found.add(kind.value.name);
      break;
    case 'selectExpr':
      referencedIdents(kind.value.operand!, found);
      break;
    case 'callExpr':
      [...(kind.value.target ? [kind.value.target] : []), ...kind.value.args].forEach((e) => referencedIdents(e, found));
      break;
    case 'listExpr':
      kind.value.elements.forEach((e) => referencedIdents(e, found));
      break;
    case 'structExpr':
      kind.value.entries.forEach((e) => {
        if (e.keyKind.case === 'mapKey') referencedIdents(e.keyKind.value, found);
        referencedIdents(e.value!, found);
      });
      break;
    case 'comprehensionExpr':
      [kind.value.iterRange, kind.value.accuInit, kind.value.loopCondition, kind.value.loopStep, kind.value.result].forEach((e) => referencedIdents(e!, found));
      break;
    default:
      break;
  }
  return found;
}

/** A rule that reads oldSelf runs only on updates where the old object has the field. */
export function isTransitionRule(rule: string): boolean {
  return referencedIdents(parse(rule).expr).has('oldSelf');
}

/**
 * Parse and type-check a rule against the schema node it sits on, as the apiserver does
 * when the CRD is created: `self` and `oldSelf` have the node's type, the result is bool.
 * Throws (parse error or CelTypeError) when the apiserver would refuse the CRD.
 */
export function checkRule(rule: string, schema: Schema): Checked {
  const self = celTypeOf(schema);
  const checked = checkExpr(
    parse(rule).expr,
    new Map([
      ['self', self],
      ['oldSelf', self],
    ]),
  );
  if (checked.type.kind !== 'bool' && checked.type.kind !== 'dyn') fail(`rule must evaluate to bool, not ${typeName(checked.type)}`);
  return checked;
}

// ---------------------------------------------------------------- evaluation

// The apiserver's environment includes cel-go's strings extension (lowerAscii, split, ...),
// which upstream CRDs use. Our own rules stay within standard CEL: checkRule refuses the rest.
const env = celEnv({ funcs: strings });
const plans = new Map<string, ReturnType<typeof plan>>();

function planned(rule: string): ReturnType<typeof plan> {
  let p = plans.get(rule);
  if (!p) {
    p = plan(env, parse(rule));
    plans.set(rule, p);
  }
  return p;
}

/** JSON to CEL input the way the apiserver types it: `integer` nodes become CEL int (bigint). */
export function toCel(value: unknown, schema: Schema | undefined): CelInput {
  if (Array.isArray(value)) return value.map((v) => toCel(v, schema?.items));
  if (value !== null && typeof value === 'object') {
    const extra = typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(v, schema?.properties?.[k] ?? extra)]));
  }
  if (typeof value === 'number' && schema?.type === 'integer' && Number.isInteger(value)) return BigInt(value);
  return value as CelInput;
}

export interface Violation {
  path: string;
  rule: string;
  message: string;
  /** Set when the rule failed to evaluate (the apiserver reports that as invalid too). */
  error?: string;
}

/** Evaluate one rule; true = passes. `vars` binds further variables (plain CEL values). */
export function evaluateRule(rule: string, schema: Schema, self: unknown, oldSelf?: unknown, vars: Record<string, CelInput> = {}): boolean | { error: string } {
  const bindings: Record<string, CelInput> = { ...vars, self: toCel(self, schema) };
  if (oldSelf !== undefined) bindings['oldSelf'] = toCel(oldSelf, schema);
  const result = planned(rule)(bindings);
  if (isCelError(result)) return { error: result.message };
  if (typeof result !== 'boolean') return { error: `rule returned ${typeof result}, not bool` };
  return result;
}

function listItemKey(item: unknown, keys: string[]): string {
  return JSON.stringify(keys.map((k) => (item as Record<string, unknown>)[k]));
}

/**
 * Run every rule of the tree on `value` (already defaulted). Transition rules run only where
 * `old` has a value at the same place; old values follow object fields, map keys and the
 * keys of x-kubernetes-list-type=map lists (other list items have no old value).
 */
export function evaluateRules(schema: Schema, value: unknown, old?: unknown, path = ''): Violation[] {
  if (value === undefined || value === null) return [];
  const violations: Violation[] = [];
  for (const r of schema['x-kubernetes-validations'] ?? []) {
    const transition = isTransitionRule(r.rule);
    if (transition && old === undefined) continue;
    const outcome = evaluateRule(r.rule, schema, value, transition ? old : undefined);
    if (outcome === true) continue;
    const base = { path, rule: r.rule, message: r.message ?? `failed rule: ${r.rule}` };
    violations.push(outcome === false ? base : { ...base, error: outcome.error });
  }
  const join = (key: string) => (path === '' ? key : `${path}.${key}`);
  const oldObject = old !== null && typeof old === 'object' ? (old as Record<string, unknown>) : undefined;
  if (Array.isArray(value) && schema.items) {
    const mapKeys = schema['x-kubernetes-list-type'] === 'map' ? (schema['x-kubernetes-list-map-keys'] ?? []) : undefined;
    const oldItems = Array.isArray(old) ? old : [];
    value.forEach((item, i) => {
      const previous = mapKeys ? oldItems.find((o) => listItemKey(o, mapKeys) === listItemKey(item, mapKeys)) : undefined;
      violations.push(...evaluateRules(schema.items!, item, previous, `${path}[${i}]`));
    });
  } else if (typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const childSchema = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (childSchema) violations.push(...evaluateRules(childSchema, child, oldObject?.[key], join(key)));
    }
  }
  return violations;
}

// ---------------------------------------------------------------- OpenAPI validation (ajv)

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * A copy of the schema in which every object with `properties` rejects unknown fields
 * (the apiserver's strict field validation; the CRD itself must not say so).
 */
export function rejectingUnknownFields(schema: Schema): Schema {
  const copy: Schema = { ...schema };
  if (copy.properties) {
    copy.properties = Object.fromEntries(Object.entries(copy.properties).map(([k, v]) => [k, rejectingUnknownFields(v)]));
    if (copy.additionalProperties === undefined && !copy['x-kubernetes-preserve-unknown-fields']) copy.additionalProperties = false;
  }
  if (copy.items) copy.items = rejectingUnknownFields(copy.items);
  if (typeof copy.additionalProperties === 'object') copy.additionalProperties = rejectingUnknownFields(copy.additionalProperties);
  return copy;
}

/** ajv as the SOURCES.md of the shared schemas prescribes, applying defaults like the apiserver. */
export function compileSchema(schema: Schema): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true });
  addFormats(ajv);
  for (const format of ['int32', 'int64', 'double', 'float', 'byte']) ajv.addFormat(format, true);
  return ajv.compile(rejectingUnknownFields(schema));
}

export interface ApiserverResult {
  /** The object after defaulting. */
  object: unknown;
  schemaErrors: string[];
  celViolations: Violation[];
}

/** Default, validate and run the CEL rules on a (copied) object, with the old object for updates. */
export function validateLikeApiserver(validate: ValidateFunction, schema: Schema, object: unknown, old?: unknown, path = ''): ApiserverResult {
  const defaulted: unknown = structuredClone(object);
  const ok = validate(defaulted);
  const schemaErrors = ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
  let previous: unknown;
  if (old !== undefined) {
    previous = structuredClone(old);
    validate(previous);
  }
  return { object: defaulted, schemaErrors, celViolations: evaluateRules(schema, defaulted, previous, path) };
}
