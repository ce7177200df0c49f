export {
  openPostgresEngine,
  type PostgresEngine,
  type PostgresEngineOptions,
} from './postgres-engine.js';
export { parsePostgresUrl, DEFAULT_SCHEMA, type PostgresTarget } from './connection-options.js';
export {
  TransactionAbortedError,
  type Isolation,
  type IsolationSetting,
} from './pg-transaction.js';
export { toPositional } from './placeholders.js';
