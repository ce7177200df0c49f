import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../../common/config.js';
import { nowSeconds, type AuthQueries, type AuthSql, type SqlValue } from '../db/auth-sql.js';
import { authOnPostgres, openAuthSql } from '../db/open-auth-sql.js';
import { authPostgresTarget } from '../db/postgres-target.js';
import { SIGNING_KEY_GRACE_SECONDS, COOKIE_KEY_GRACE_SECONDS } from '../keys/key-store.js';
import { AUTH_TABLES, type AuthTable } from './auth-tables.js';

/** Where an auth state lives: STORE_URL decides the engine, DATA_DIR holds auth.db for SQLite. */
export type AuthStateLocation = Pick<Config, 'storeUrl' | 'dataDir' | 'sqliteSync'>;

export interface AuthCopyProgress {
  readonly table: string;
  /** Rows of this table copied so far. */
  readonly copied: number;
  /** True on the last report of a table. */
  readonly done: boolean;
}

export interface AuthCopyResult {
  /** Rows copied per table. */
  readonly tables: Readonly<Record<string, number>>;
}

const BATCH = 500;
type Row = Record<string, SqlValue>;

/**
 * Rows per auth table at `location`, or undefined when there is no auth state there (a DATA_DIR
 * without auth.db, or a PostgreSQL database without the auth schema); creates nothing.
 */
export async function countAuthState(
  location: AuthStateLocation,
): Promise<Record<string, number> | undefined> {
  if (authOnPostgres(location)) {
    const target = authPostgresTarget(location.storeUrl);
    const client = new pg.Client({ connectionString: target.connectionString });
    await client.connect();
    try {
      const r = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [
        target.schema,
      ]);
      if (r.rowCount === 0) return undefined;
    } finally {
      await client.end();
    }
  } else if (!fs.existsSync(path.join(location.dataDir, 'auth.db'))) {
    return undefined;
  }
  const sql = await openAuthSql(location);
  try {
    const counts: Record<string, number> = {};
    for (const t of AUTH_TABLES) {
      counts[t.name] = Number(
        (await sql.get<{ n: number | string }>(`SELECT count(*) AS n FROM ${t.name}`))?.n ?? 0,
      );
    }
    return counts;
  } finally {
    await sql.close();
  }
}

/**
 * Copies the whole auth state (accounts, clients, signing and cookie keys, oidc-provider artefacts
 * such as grants, sessions and refresh tokens, launches, grant contexts, revoked token ids, the
 * admin change log, login throttling) from one auth database to another — SQLite (DATA_DIR/auth.db)
 * to PostgreSQL (`<schema>_auth`) or back. Rows are read in primary-key pages of 500 and upserted by
 * primary key, one transaction per page, so a re-run is idempotent and a run interrupted half-way
 * can simply be repeated. The source's signing and cookie keys become the ones in use at the
 * target: keys the target made itself stay published for their grace period, retired. Run it with
 * the servers of the source stopped (or accept that changes made during the copy may be missed).
 */
export async function copyAuthState(
  from: AuthStateLocation,
  to: AuthStateLocation,
  onProgress: (p: AuthCopyProgress) => void = () => {},
): Promise<AuthCopyResult> {
  if (!authOnPostgres(from) && !fs.existsSync(path.join(from.dataDir, 'auth.db'))) {
    throw new Error(`no auth state to copy: ${path.join(from.dataDir, 'auth.db')} does not exist`);
  }
  const source = await openAuthSql(from);
  try {
    const target = await openAuthSql(to);
    try {
      if (source.location === target.location) {
        throw new Error(`source and target are the same auth database (${source.location})`);
      }
      const tables: Record<string, number> = {};
      for (const table of AUTH_TABLES) {
        tables[table.name] = await copyTable(source, target, table, onProgress);
      }
      if (target.engine === 'postgres') {
        await target.run(
          "SELECT setval(pg_get_serial_sequence('admin_changes', 'id'), GREATEST((SELECT max(id) FROM admin_changes), 1))",
        );
      }
      return { tables };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

async function copyTable(
  source: AuthSql,
  target: AuthSql,
  table: AuthTable,
  onProgress: (p: AuthCopyProgress) => void,
): Promise<number> {
  const cols = table.columns.join(', ');
  const order = table.key.join(', ');
  const first = `SELECT ${cols} FROM ${table.name} ORDER BY ${order} LIMIT ${BATCH}`;
  const next = `SELECT ${cols} FROM ${table.name} WHERE ${after(table.key)} ORDER BY ${order} LIMIT ${BATCH}`;
  const upsert = upsertSql(table);
  let copied = 0;
  let last: Row | undefined;
  for (;;) {
    const rows: Row[] =
      last === undefined
        ? await source.all<Row>(first)
        : await source.all<Row>(next, afterParams(table.key, last));
    if (rows.length === 0) break;
    await target.transaction(
      async (tx) => {
        if (table.name === 'signing_keys') await retireOtherActiveKeys(tx, rows);
        for (const row of rows)
          await tx.run(
            upsert,
            table.columns.map((c) => row[c] ?? null),
          );
      },
      table.name === 'signing_keys' ? 'signing-keys' : undefined,
    );
    copied += rows.length;
    last = rows[rows.length - 1];
    onProgress({ table: table.name, copied, done: false });
    if (rows.length < BATCH) break;
  }
  onProgress({ table: table.name, copied, done: true });
  return copied;
}

/** `(k1 > ?) OR (k1 = ? AND k2 > ?)`: keyset paging for one- and two-column keys. */
function after(key: readonly string[]): string {
  const [k1, k2] = key;
  return k2 === undefined ? `${k1} > ?` : `(${k1} > ? OR (${k1} = ? AND ${k2} > ?))`;
}

function afterParams(key: readonly string[], row: Row): SqlValue[] {
  const [k1 = '', k2] = key;
  return k2 === undefined ? [row[k1] ?? null] : [row[k1] ?? null, row[k1] ?? null, row[k2] ?? null];
}

function upsertSql(table: AuthTable): string {
  const values = table.columns.map(() => '?').join(', ');
  const rest = table.columns.filter((c) => !table.key.includes(c));
  return `INSERT INTO ${table.name} (${table.columns.join(', ')}) VALUES (${values})
    ON CONFLICT (${table.key.join(', ')}) DO UPDATE SET ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}`;
}

/**
 * Before the source's key in use of a kind arrives, the target's own key in use of that kind (if any,
 * and not the same) is retired, staying published for its grace period: one key in use per kind.
 */
async function retireOtherActiveKeys(tx: AuthQueries, rows: readonly Row[]): Promise<void> {
  const now = nowSeconds();
  for (const row of rows) {
    if (row['retired_at'] !== null && row['retired_at'] !== undefined) continue;
    const use = String(row['use']);
    const grace = use === 'sig' ? SIGNING_KEY_GRACE_SECONDS : COOKIE_KEY_GRACE_SECONDS;
    await tx.run(
      'UPDATE signing_keys SET retired_at = ?, unpublish_at = ? WHERE use = ? AND retired_at IS NULL AND kid <> ?',
      [now, now + grace, use, String(row['kid'])],
    );
  }
}
