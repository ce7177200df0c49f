import type { Config } from '../../common/config.js';
import { sqlitePath } from '../../common/store-url.js';
import type { Engine } from './engine.js';
import { openPostgresEngine } from './postgres/index.js';
import { openSqliteEngine } from './sqlite/index.js';

export * from './engine.js';
export { openSqliteEngine, type SqliteEngine, type SqliteEngineOptions } from './sqlite/index.js';
export {
  openPostgresEngine,
  type PostgresEngine,
  type PostgresEngineOptions,
} from './postgres/index.js';

/** Opens the engine `config.storeUrl` names. */
export function openEngine(config: Config): Engine {
  const file = sqlitePath(config.storeUrl);
  if (file === undefined) return openPostgresEngine({ url: config.storeUrl });
  return openSqliteEngine({ file, sync: config.sqliteSync });
}
export { dialectOf, escapeLike, type Dialect, type ColumnTypes, type Fragment } from './dialect.js';
export { copyTable, type CopyTableOptions } from './copy-table.js';
