/**
 * The built-in FHIR R4 store's pure FHIR knowledge, the part the gateway may import: the
 * OperationOutcome vocabulary, the trusted-caller protocol, R4 resource types, patient
 * compartment membership, access constraints, JSON with exact numbers, validation. The factory,
 * engines and admin commands are in store/server.ts, so the gateway's process never loads them.
 */

export * from './fhir/outcome.js';
export * from './protocol.js';
export { r4ResourceTypes, isResourceType, isValidId, ID_PATTERN } from './fhir/resource-types.js';
export { patientCompartments } from './fhir/patient-compartment.js';
export { allows as constraintAllows, typeAccess } from './access/constraint.js';
export {
  parseJson,
  stringifyJson,
  toPlain,
  isJsonObject,
  type JsonObject,
  type JsonValue,
} from './fhir/json.js';
export { validateFhirResource } from './fhir/validate.js';

// Bulk data: what the gateway sends to and reads from the store's bulk endpoints
export type { ExportQuery } from './bulk/export-query.js';
export type { ImportMode, LineResult } from './bulk/import-lines.js';
