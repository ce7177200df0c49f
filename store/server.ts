/**
 * The built-in FHIR R4 store as a server: its factory, engines, schema and admin commands, for the
 * composition root (app/), the admin CLI (cli/) and the CLI's direct bulk export. The gateway
 * imports only store/index.ts (pure FHIR knowledge): loading this entry loads the whole store.
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

// Bulk data (the trusted caller's export stream and versioned import)
export { exportCount, exportLines, importLines } from './bulk/index.js';
