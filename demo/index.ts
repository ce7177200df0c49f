/**
 * Deterministic synthetic patients (seeded; the patient count is a parameter) and `npm run demo`
 * seeding. The only entry other folders import.
 */
export {
  DEFAULT_AS_OF,
  DEFAULT_SEED,
  demoBundles,
  demoNdjson,
  generatePopulation,
  generateRecords,
  sharedBundle,
  type GenerateOptions,
  type Population,
} from './generate.js';
export { ndjsonByType, transactionBundle, type ReferenceStyle } from './bundles.js';
export { patientIdOf } from './record/patient-record.js';
export type { SharedResources } from './record/shared.js';
export {
  CLINICIAN_USERNAME,
  PATIENT_USERNAME,
  seedDemo,
  type DemoAccountStore,
  type ImportBundles,
  type ImportSummary,
  type SeedOptions,
  type SeedResult,
} from './seed.js';
