import type { Config } from '../../common/config.js';
import type { AuthSql } from './auth-sql.js';
import { openAuthDb } from './open-auth-db.js';
import { PostgresAuthSql } from './postgres-auth-sql.js';
import { authPostgresTarget } from './postgres-target.js';
import { SqliteAuthSql } from './sqlite-auth-sql.js';
import path from 'node:path';

/** Whether auth keeps its state in PostgreSQL (STORE_URL is postgres://…). */
export function authOnPostgres(config: Pick<Config, 'storeUrl'>): boolean {
  return /^postgres(ql)?:\/\//.test(config.storeUrl);
}

/**
 * Opens the auth database STORE_URL implies: with `postgres://…[?schema=s]` the schema `s_auth`
 * (`hearth_auth` by default) on that server, shared by every Hearth process on it; otherwise
 * `DATA_DIR/auth.db`. Either way the schema is brought up to date first.
 */
export async function openAuthSql(
  config: Pick<Config, 'storeUrl' | 'dataDir' | 'sqliteSync'>,
  opts: { onIdleError?: (err: Error) => void } = {},
): Promise<AuthSql> {
  if (authOnPostgres(config)) {
    return PostgresAuthSql.open(authPostgresTarget(config.storeUrl), opts);
  }
  const db = openAuthDb(config.dataDir, config.sqliteSync);
  return new SqliteAuthSql(db, path.join(config.dataDir, 'auth.db'));
}
