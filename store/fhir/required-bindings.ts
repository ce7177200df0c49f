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

const elements = new Map<string, ElementInfo>();
const complexTypes = new Set<string>();

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Adds a base definition's elements (profiles, `derivation: constraint`, are not bases). */
export function addRequiredBindings(sd: StructureDefinitionLite): void {
  if (sd.derivation === 'constraint') return;
  if (sd.kind === 'complex-type' || sd.kind === 'resource') complexTypes.add(sd.type);
  for (const el of sd.snapshot?.element ?? []) addElement(elements, el);
}

function addElement(map: Map<string, ElementInfo>, el: ElementDefinitionLite): void {
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
    for (const t of types) map.set(`${base}${cap(t)}`, { ...info, types: [t] });
  } else {
    map.set(el.path, info);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkCode(
  value: unknown,
  type: string,
  info: ElementInfo,
  at: string,
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
        [at],
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

function walk(obj: Obj, defPath: string, at: string, out: OutcomeIssue[], depth: number): void {
  if (depth > 40) return;
  const map = elements;
  for (const [key, raw] of Object.entries(obj)) {
    if (
      key === 'resourceType' ||
      key.startsWith('_') ||
      key === 'extension' ||
      key === 'modifierExtension'
    ) {
      continue;
    }
    let info = map.get(`${defPath}.${key}`);
    if (info?.ref !== undefined) info = { ...(map.get(info.ref) ?? info), ref: info.ref };
    if (info === undefined) continue;
    const list = Array.isArray(raw) ? raw : [raw];
    list.forEach((value: unknown, i) => {
      const here = Array.isArray(raw) ? `${at}.${key}[${i}]` : `${at}.${key}`;
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
    });
  }
}

/** Issues for every code outside its required, expandable ValueSet. */
export function checkRequiredBindings(resource: Obj & { resourceType: string }): OutcomeIssue[] {
  const out: OutcomeIssue[] = [];
  walk(resource, resource.resourceType, resource.resourceType, out, 0);
  return out;
}
