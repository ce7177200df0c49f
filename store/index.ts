/**
 * The built-in FHIR R4 store: its public entry. The composition root and the admin CLI use the
 * factory and engines; the gateway may import only the pure parts (OperationOutcome vocabulary,
 * the trusted-caller protocol, R4 resource types, patient compartment membership).
 */

// Factory and process wiring
export { createStore, type CreateStoreOptions, type Store } from './create-store.js';
export { storeIndexer, storeSearch } from './wiring.js';
export { parseStoreProcessEnv, type StoreProcessEnv } from './process-env.js';
export { registerStoreCommands } from './cli/register.js';
export { registerSearchCommands, reindexAll, searchSchema } from './search/index.js';
export { importFiles, type ImportSummary } from './cli/import-files.js';

// Engines
export {
  openEngine,
  openSqliteEngine,
  QueryTimeoutError,
  type DialectName,
  type Engine,
  type QueryOptions,
  type Queryable,
  type RunResult,
  type SqlValue,
  type SqliteEngine,
  type SqliteEngineOptions,
  type Tx,
  copyTable,
  type CopyTableOptions,
} from './engines/index.js';

// Write-path hook and search plug-in
export { noIndexing, type Indexer } from './repo/indexer.js';
export { storeSchema } from './repo/schema.js';
export type { HistoryRow, ResourceRow } from './repo/rows.js';
export type {
  Disclosure,
  MatchCall,
  OperationCall,
  SearchCall,
  SearchProvider,
  StoreContext,
  StoreRequest,
  StoreResponse,
} from './http/types.js';
export { etag, FHIR_JSON, jsonResponse, outcomeResponse, versionUrl } from './http/respond.js';
export { bundleText, entryText, type EntryText } from './rest/bundle-text.js';
export { allows as constraintAllows, typeAccess } from './access/constraint.js';

// Pure FHIR knowledge (safe for the gateway)
export * from './fhir/outcome.js';
export * from './protocol.js';
export { r4ResourceTypes, isResourceType, isValidId, ID_PATTERN } from './fhir/resource-types.js';
export { patientCompartments } from './fhir/patient-compartment.js';
export {
  parseJson,
  stringifyJson,
  toPlain,
  isJsonObject,
  type JsonObject,
  type JsonValue,
} from './fhir/json.js';
export { validateFhirResource } from './fhir/validate.js';

// Bulk data (the trusted caller's export stream and versioned import)
export {
  BULK_EXPORT_PATH,
  BULK_IMPORT_PATH,
  exportCount,
  exportLines,
  importLines,
  type ExportQuery,
  type ImportMode,
  type LineResult,
} from './bulk/index.js';
