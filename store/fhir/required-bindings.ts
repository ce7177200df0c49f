import type { ElementDefinitionLite, StructureDefinitionLite } from './definitions.js';
import { issue, type OutcomeIssue } from './outcome.js';
import { expandValueSet, type CodeSet } from './value-sets.js';

/**
 * Checks codes against `required` bindings whose ValueSet the core package can expand
 * (e.g. `Patient.gender`, `Observation.status`, `HumanName.use`), walking resources, backbone
 * elements, data types and contained resources. The tables grow as definitions are loaded
 * (type-schemas.ts): a resource is checked once its type and the types nested in it are.
 */

interface ElementInfo {
  /** Type codes of the element (after choice expansion: exactly one). */
  types: string[];
  /** For contentReference elements: the element path whose definition applies. */
  ref?: string;
  codes?: CodeSet;
  valueSet?: string;
}

/** The elements by the path of their parent, then by their JSON name (`Observation` → `status`). */
const elements = new Map<string, Map<string, ElementInfo>>();
const complexTypes = new Set<string>();

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function setElement(path: string, info: ElementInfo): void {
  const dot = path.lastIndexOf('.');
  const parent = dot < 0 ? '' : path.slice(0, dot);
  let children = elements.get(parent);
  if (children === undefined) elements.set(parent, (children = new Map<string, ElementInfo>()));
  children.set(path.slice(dot + 1), info);
}

function getElement(path: string): ElementInfo | undefined {
  const dot = path.lastIndexOf('.');
  return elements.get(dot < 0 ? '' : path.slice(0, dot))?.get(path.slice(dot + 1));
}

/** Adds a base definition's elements (profiles, `derivation: constraint`, are not bases). */
export function addRequiredBindings(sd: StructureDefinitionLite): void {
  if (sd.derivation === 'constraint') return;
  if (sd.kind === 'complex-type' || sd.kind === 'resource') complexTypes.add(sd.type);
  for (const el of sd.snapshot?.element ?? []) addElement(el);
}

function addElement(el: ElementDefinitionLite): void {
  const types = (el.type ?? []).map((t) => t.code);
  const info: ElementInfo = { types };
  if (el.contentReference !== undefined) info.ref = el.contentReference.replace(/^#/, '');
  const b = el.binding;
  if (b?.strength === 'required' && b.valueSet !== undefined) {
    const codes = expandValueSet(b.valueSet);
    if (codes !== undefined) {
      info.codes = codes;
      info.valueSet = b.valueSet;
    }
  }
  if (el.path.endsWith('[x]')) {
    const base = el.path.slice(0, -3);
    for (const t of types) setElement(`${base}${cap(t)}`, { ...info, types: [t] });
  } else {
    setElement(el.path, info);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Where a value is, as a chain up to the resource: its FHIRPath (`Observation.component[0].code`)
 * is written only for an issue.
 */
interface At {
  up: At | undefined;
  /** The resource type at the root; else the element name. */
  name: string;
  /** The index in its array, or -1 for a single value. */
  index: number;
}

function pathOf(at: At): string {
  const name = at.index < 0 ? at.name : `${at.name}[${at.index}]`;
  return at.up === undefined ? name : `${pathOf(at.up)}.${name}`;
}

function checkCode(
  value: unknown,
  type: string,
  info: ElementInfo,
  at: At,
  out: OutcomeIssue[],
): void {
  const codes = info.codes;
  if (codes === undefined) return;
  const bad = (shown: string) =>
    out.push(
      issue(
        'error',
        'code-invalid',
        `code "${shown}" is not in the required value set ${info.valueSet ?? ''}`,
        [pathOf(at)],
      ),
    );
  if (type === 'code') {
    if (typeof value === 'string' && !codes.codes.has(value)) bad(value);
  } else if (type === 'Coding' && isObj(value)) {
    if (typeof value.code === 'string' && !matches(value, codes)) bad(value.code);
  } else if (type === 'CodeableConcept' && isObj(value) && Array.isArray(value.coding)) {
    const codings = value.coding.filter(isObj);
    if (codings.length > 0 && !codings.some((c) => matches(c, codes))) {
      bad(codings.map((c) => String(c.code)).join(', '));
    }
  }
}

function matches(coding: Obj, codes: CodeSet): boolean {
  if (typeof coding.code !== 'string') return false;
  return typeof coding.system === 'string'
    ? codes.pairs.has(`${coding.system}|${coding.code}`)
    : codes.codes.has(coding.code);
}

/** A contentReference element with the definition it refers to (its types, codes). */
function resolved(info: ElementInfo, ref: string): ElementInfo {
  return { ...(getElement(ref) ?? info), ref };
}

function walk(obj: Obj, defPath: string, at: At, out: OutcomeIssue[], depth: number): void {
  if (depth > 40) return;
  const children = elements.get(defPath);
  for (const key of Object.keys(obj)) {
    if (
      key === 'resourceType' ||
      key.startsWith('_') ||
      key === 'extension' ||
      key === 'modifierExtension'
    ) {
      continue;
    }
    // a name with a dot names a nested path, as `${defPath}.${key}` always did
    let info = key.includes('.') ? getElement(`${defPath}.${key}`) : children?.get(key);
    if (info === undefined) continue;
    if (info.ref !== undefined) info = resolved(info, info.ref);
    const raw = obj[key];
    if (Array.isArray(raw)) {
      for (let i = 0; i < raw.length; i++)
        visit(raw[i] as unknown, info, defPath, key, { up: at, name: key, index: i }, out, depth);
    } else {
      visit(raw, info, defPath, key, { up: at, name: key, index: -1 }, out, depth);
    }
  }
}

function visit(
  value: unknown,
  info: ElementInfo,
  defPath: string,
  key: string,
  here: At,
  out: OutcomeIssue[],
  depth: number,
): void {
  const type = info.types[0] ?? 'BackboneElement';
  checkCode(value, type, info, here, out);
  if (!isObj(value)) return;
  if (type === 'Resource' && typeof value.resourceType === 'string') {
    walk(value, value.resourceType, here, out, depth + 1);
  } else if (info.ref !== undefined || type === 'BackboneElement' || type === 'Element') {
    walk(value, info.ref ?? `${defPath}.${key}`, here, out, depth + 1);
  } else if (complexTypes.has(type) && type !== 'Extension') {
    walk(value, type, here, out, depth + 1);
  }
}

/** Issues for every code outside its required, expandable ValueSet. */
export function checkRequiredBindings(resource: Obj & { resourceType: string }): OutcomeIssue[] {
  const out: OutcomeIssue[] = [];
  const root: At = { up: undefined, name: resource.resourceType, index: -1 };
  walk(resource, resource.resourceType, root, out, 0);
  return out;
}
