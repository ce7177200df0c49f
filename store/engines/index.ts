import { sqlitePath, type Config } from '../../common/config.js';
import type { Engine } from './engine.js';
import { openSqliteEngine } from './sqlite/index.js';

export * from './engine.js';
export { openSqliteEngine, type SqliteEngine, type SqliteEngineOptions } from './sqlite/index.js';

/** Opens the engine `config.storeUrl` names. */
export function openEngine(config: Config): Engine {
  const file = sqlitePath(config.storeUrl);
  if (file === undefined) {
    throw new Error('STORE_URL: the PostgreSQL engine is not available in this build; use sqlite:');
  }
  return openSqliteEngine({ file, sync: config.sqliteSync });
}
