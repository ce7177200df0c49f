export { openSqliteEngine, type SqliteEngine, type SqliteEngineOptions } from './sqlite-engine.js';
