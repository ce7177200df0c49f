import { PATIENT_COMPARTMENT } from '../search/definitions/patient-compartment.js';
import { standardDefinitions } from '../search/definitions/registry.js';
import { compileExtractor } from '../search/indexing/compile-expression.js';

/**
 * Patient compartment membership (R4 CompartmentDefinition `patient`): which patients' compartments
 * a resource belongs to, from the compartment's search parameters evaluated with FHIRPath.
 */

type Evaluator = (resource: unknown) => unknown[];

let evaluators: Map<string, Evaluator[]> | undefined;

/** One union branch per type; `resolve()` checks become a reference-prefix filter (applied below). */
function branchesFor(type: string, expression: string): string[] {
  return expression
    .split('|')
    .map((b) => b.trim())
    .filter((b) => b.startsWith(`${type}.`) || b.startsWith(`(${type}.`))
    .map((b) =>
      b
        .replace(/\.where\(resolve\(\) is [A-Za-z]+\)/g, '')
        .replace(/ as ([A-Za-z]+)\)/g, '.ofType($1))'),
    );
}

function build(): Map<string, Evaluator[]> {
  if (evaluators !== undefined) return evaluators;
  const sps = standardDefinitions();
  const map = new Map<string, Evaluator[]>();
  for (const [type, params] of PATIENT_COMPARTMENT) {
    const list: Evaluator[] = [];
    for (const code of params) {
      const sp = sps.find(
        (p) =>
          p.code === code &&
          (p.base?.includes(type) === true || p.base?.includes('Resource') === true),
      );
      if (sp?.expression === undefined) continue;
      for (const branch of branchesFor(type, sp.expression)) {
        try {
          // Plain dotted paths (most of them) are walked directly; the rest run through fhirpath.js.
          const extract = compileExtractor(branch);
          list.push((res) => extract(res).map((x) => x.value));
        } catch {
          // an expression this engine cannot compile does not decide membership
        }
      }
    }
    map.set(type, list);
  }
  evaluators = map;
  return map;
}

const PATIENT_REF = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/** Ids of the patients whose compartment `resource` is in (a Patient is in its own). */
export function patientCompartments(resource: { resourceType?: unknown; id?: unknown }): string[] {
  const ids = new Set<string>();
  if (resource.resourceType === 'Patient' && typeof resource.id === 'string') ids.add(resource.id);
  const type = typeof resource.resourceType === 'string' ? resource.resourceType : '';
  for (const evaluate of build().get(type) ?? []) {
    let values: unknown[];
    try {
      values = evaluate(resource);
    } catch {
      continue;
    }
    for (const v of values) {
      const ref =
        typeof v === 'object' && v !== null ? (v as { reference?: unknown }).reference : undefined;
      if (typeof ref !== 'string') continue;
      const m = PATIENT_REF.exec(ref);
      if (m?.[1] !== undefined) ids.add(m[1]);
    }
  }
  return [...ids];
}

/**
 * `patientCompartments` of a stored version, from its JSON text (as written by stringifyJson or
 * JSON.stringify: no repeated keys, and `/` and letters never escaped), parsing it only when the
 * answer can depend on more than `type` and `id`. Without parsing, the answer is the type's own
 * rule — a Patient is in its own compartment, anything else in none — whenever the text
 *  - starts with `{"resourceType":"<type>","id":"<id>"` (so the resource's type and id are these), and
 *  - has no `Patient/` and no `\u` or `\/` escape (so no string in it holds a Patient reference),
 *    or its type has no Patient compartment parameter (so no reference in it counts).
 */
export function storedPatientCompartments(type: string, id: string, json: string): string[] {
  const head = `{"resourceType":${JSON.stringify(type)},"id":${JSON.stringify(id)}`;
  const next = json.charCodeAt(head.length); // `,` or `}`: the id ends where `head` ends
  if (json.startsWith(head) && (next === 0x2c || next === 0x7d)) {
    const ownOnly = type === 'Patient' ? [id] : [];
    if (build().get(type) === undefined) return ownOnly;
    if (!json.includes('Patient/') && !json.includes('\\u') && !json.includes('\\/'))
      return ownOnly;
  }
  return patientCompartments(JSON.parse(json) as { resourceType?: unknown; id?: unknown });
}
