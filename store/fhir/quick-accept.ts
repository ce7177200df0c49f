import {
  UCUM,
  capitalize,
  evalFhirPathTyped,
  fhirTypeToJsType,
  parseFhirPath,
  toTypedValue,
  tryGetDataType,
  validationRegexes,
  type FhirPathAtom,
  type InternalSchemaElement,
  type InternalTypeSchema,
  type TypedValue,
} from '@medplum/core';

/**
 * A quick pass that says "Medplum's validator reports no error for this resource" for the
 * resources writes bring in practice, at a fraction of the validator's cost; for anything else it
 * says nothing, and the caller asks the validator. It never accepts what the validator rejects:
 * it checks everything the validator checks for the R4 base definitions, in the same terms (the
 * same type schemas, JSON types, regular expressions, number rules and FHIRPath invariants),
 * and is stricter where the validator's own rules are intricate (primitive extensions `_x`, empty
 * values, nulls, pattern, fixed and sliced elements): those resources go to the validator, which
 * words the issues. (Where an object holds two types of one choice element, the validator checks
 * the first only, with a warning; this pass checks both.) test/store/fhir/quick-accept.test.ts
 * compares the two on generated resources and their mutations.
 *
 * The validator walks every element a type defines, present or not, building a path and a typed
 * value for each, and finds a choice element's type by trying each of its types' names (fifty
 * for an extension's value). This pass walks the keys a resource has, looked up in a plan made
 * once per type.
 */

/** Invariants the validator skips (validation.ts `skippedConstraintKeys` in @medplum/core). */
const SKIPPED_INVARIANTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);
const MAX_STRING = 1024 * 1024;

type JsType = 'string' | 'number' | 'boolean';

interface ElementPlan {
  readonly min: number;
  readonly max: number;
  readonly isArray: boolean;
  /** The element's error invariants, parsed; empty when it has none. */
  readonly invariants: readonly FhirPathAtom[];
  /** Every JSON key this element may appear under (one, or one per type of a choice). */
  readonly keys: readonly string[];
}

interface Slot {
  readonly element: ElementPlan;
  /** The type code under this key (`Resource` for a nested resource). */
  readonly type: string;
  /** A primitive's JSON type; undefined for a complex type. */
  readonly jsType: JsType | undefined;
  readonly pattern: RegExp | undefined;
}

interface TypePlan {
  /** False when the type uses what this pass leaves to the validator. */
  readonly supported: boolean;
  readonly isResource: boolean;
  readonly slots: ReadonlyMap<string, Slot>;
  readonly required: readonly ElementPlan[];
  /** The type's own error invariants (checked on the root resource only, as the validator does). */
  readonly invariants: readonly FhirPathAtom[];
}

const plans = new Map<string, TypePlan | undefined>();
const atoms = new Map<string, FhirPathAtom>();

function invariantsOf(constraints: InternalSchemaElement['constraints']): FhirPathAtom[] {
  const out: FhirPathAtom[] = [];
  for (const c of constraints ?? []) {
    if (c.severity !== 'error' || SKIPPED_INVARIANTS.has(c.key)) continue;
    let atom = atoms.get(c.expression);
    if (atom === undefined) {
      atom = parseFhirPath(c.expression);
      atoms.set(c.expression, atom);
    }
    out.push(atom);
  }
  return out;
}

const UNSUPPORTED: TypePlan = {
  supported: false,
  isResource: false,
  slots: new Map(),
  required: [],
  invariants: [],
};

function makePlan(schema: InternalTypeSchema): TypePlan {
  const slots = new Map<string, Slot>();
  const required: ElementPlan[] = [];
  for (const [name, el] of Object.entries(schema.elements)) {
    const last = el.path.slice(el.path.lastIndexOf('.') + 1);
    const choice = last.endsWith('[x]');
    if (
      el.type.length === 0 ||
      el.pattern !== undefined ||
      el.fixed !== undefined ||
      el.slicing !== undefined ||
      name !== last ||
      (!choice && el.type.length !== 1)
    ) {
      return UNSUPPORTED;
    }
    // the JSON names the validator tries (`value[x]` with `dateTime`: `valueDateTime`)
    const keys = el.type.map((t) => (choice ? last.replace('[x]', capitalize(t.code)) : last));
    const element: ElementPlan = {
      min: el.min,
      max: el.max,
      isArray: el.isArray === true,
      invariants: invariantsOf(el.constraints),
      keys,
    };
    for (const [i, t] of el.type.entries()) {
      const key = keys[i] as string;
      // a key two elements claim, or an abstract type the validator resolves on its own
      if (slots.has(key) || t.code === 'Element' || t.code === 'BackboneElement') {
        return UNSUPPORTED;
      }
      const jsType = (fhirTypeToJsType as Record<string, JsType | undefined>)[t.code];
      slots.set(key, { element, type: t.code, jsType, pattern: validationRegexes[t.code] });
    }
    if (el.min > 0) required.push(element);
  }
  return {
    supported: true,
    isResource: schema.kind === 'resource',
    slots,
    required,
    invariants: invariantsOf(schema.constraints),
  };
}

/** The plan for a type, or undefined when the validator knows no such type. */
function planOf(type: string): TypePlan | undefined {
  if (plans.has(type)) return plans.get(type);
  const schema = tryGetDataType(type);
  // not cached when unknown: the type's definition may be loaded later (type-schemas.ts)
  if (schema === undefined) return undefined;
  const plan = makePlan(schema);
  plans.set(type, plan);
  return plan;
}

/** What FHIRPath invariants see: the innermost resource and the resource validated. */
interface Context {
  readonly root: TypedValue;
  resource: Record<string, unknown>;
}

const UCUM_VALUE = toTypedValue(UCUM);

function holds(invariants: readonly FhirPathAtom[], value: TypedValue, ctx: Context): boolean {
  const variables: Record<string, TypedValue> = {
    '%context': value,
    '%ucum': UCUM_VALUE,
    '%resource': toTypedValue(ctx.resource),
    '%rootResource': ctx.root,
  };
  for (const atom of invariants) {
    let result: TypedValue[];
    try {
      result = evalFhirPathTyped(atom, [value], variables);
    } catch {
      return false;
    }
    if (result.length !== 1 || result[0]?.value !== true) return false;
  }
  return true;
}

function acceptsObject(obj: Record<string, unknown>, plan: TypePlan, ctx: Context): boolean {
  if (!plan.supported) return false;
  const keys = Object.keys(obj);
  if (keys.length === 0) return false;
  for (const el of plan.required) {
    if (!el.keys.some((k) => obj[k] !== undefined)) return false;
  }
  for (const key of keys) {
    if (key === 'resourceType') {
      if (!plan.isResource) return false;
      continue;
    }
    const slot = plan.slots.get(key);
    if (slot === undefined) return false;
    const el = slot.element;
    const value = obj[key];
    if (Array.isArray(value)) {
      if (!el.isArray || value.length === 0 || value.length < el.min || value.length > el.max) {
        return false;
      }
      for (const item of value) if (!acceptsValue(item, slot, ctx)) return false;
    } else {
      if (el.isArray || el.min > 1 || el.max < 1) return false;
      if (!acceptsValue(value, slot, ctx)) return false;
    }
  }
  return true;
}

function acceptsValue(value: unknown, slot: Slot, ctx: Context): boolean {
  if (value === null || value === undefined) return false;
  let type = slot.type;
  if (slot.jsType !== undefined) {
    if (typeof value !== slot.jsType) return false;
    if (typeof value === 'string') {
      if (value.trim() === '' || value.length > MAX_STRING) return false;
      if (slot.pattern !== undefined && !slot.pattern.test(value)) return false;
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return false;
      if (type === 'integer' || type === 'positiveInt' || type === 'unsignedInt') {
        if (!Number.isInteger(value)) return false;
        if (type === 'positiveInt' && value <= 0) return false;
        if (type === 'unsignedInt' && value < 0) return false;
      }
    }
  } else {
    if (typeof value !== 'object' || Array.isArray(value)) return false;
    const obj = value as Record<string, unknown>;
    const outer = ctx.resource;
    let plan: TypePlan | undefined;
    if (type === 'Resource') {
      const rt = obj.resourceType;
      if (typeof rt !== 'string') return false;
      type = rt;
      plan = planOf(rt);
      if (plan?.isResource !== true) return false;
      ctx.resource = obj;
    } else {
      plan = planOf(type);
      if (plan === undefined) return false;
    }
    const ok = acceptsObject(obj, plan, ctx);
    ctx.resource = outer;
    if (!ok) return false;
  }
  const invariants = slot.element.invariants;
  return invariants.length === 0 || holds(invariants, { type, value }, ctx);
}

/**
 * True when Medplum's `validateResource` reports no error for `resource` (a parsed JSON object
 * whose `resourceType` is known and whose definitions are loaded); false when it may report one.
 */
export function quickAccept(resource: Record<string, unknown>): boolean {
  const type = resource.resourceType;
  if (typeof type !== 'string') return false;
  const plan = planOf(type);
  if (plan?.isResource !== true) return false;
  const root = toTypedValue(resource);
  const ctx: Context = { root, resource };
  if (!acceptsObject(resource, plan, ctx)) return false;
  return plan.invariants.length === 0 || holds(plan.invariants, root, ctx);
}
