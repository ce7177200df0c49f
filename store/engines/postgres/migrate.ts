import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import { quoteIdent } from './connection-options.js';

/** Serialises every Hearth migration on a database, whichever schema it targets. */
const MIGRATE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('hearth:migrate'))";

/**
 * Applies `statements` once each, in order, in one transaction, recording each by the SHA-256 of
 * its text in `<schema>.hearth_migration` — the SQLite engine's semantics (same table name and
 * columns), so one migration list drives both engines. Before the list it creates the schema, the
 * `hearth_budget()` function the SQLite engine uses for time budgets (here always 1: PostgreSQL
 * budgets use statement_timeout) and, when the server allows it, the `pg_trgm` extension (in
 * `public`, once per database). Statements run as simple queries (several per string are allowed,
 * `?` is not translated). Concurrent starts are safe: the whole run holds one advisory lock.
 */
export async function migrate(
  client: PoolClient,
  schema: string,
  statements: readonly string[],
): Promise<void> {
  const s = quoteIdent(schema);
  await client.query('BEGIN');
  try {
    await client.query(MIGRATE_LOCK);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.hearth_migration (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL, statement TEXT NOT NULL)`,
    );
    await client.query(
      `CREATE OR REPLACE FUNCTION ${s}.hearth_budget() RETURNS integer LANGUAGE sql VOLATILE AS 'SELECT 1'`,
    );
    await ensureTrigram(client);
    for (const statement of statements) {
      const id = createHash('sha256').update(statement).digest('hex');
      const done = await client.query(`SELECT 1 FROM ${s}.hearth_migration WHERE id = $1`, [id]);
      if (done.rowCount !== 0) continue;
      await client.query(statement);
      await client.query(
        `INSERT INTO ${s}.hearth_migration (id, applied_at, statement) VALUES ($1, $2, $3)`,
        [id, Date.now(), statement],
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Creates pg_trgm in `public` when missing and allowed; a refusal leaves `:contains` unindexed. */
async function ensureTrigram(client: PoolClient): Promise<void> {
  const have = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'");
  if (have.rowCount !== 0) return;
  await client.query('SAVEPOINT hearth_trgm');
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public');
    await client.query('RELEASE SAVEPOINT hearth_trgm');
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT hearth_trgm');
  }
}

/** Whether pg_trgm is installed (trigram indexes for `:contains` exist only then). */
export async function hasTrigram(client: { query: PoolClient['query'] }): Promise<boolean> {
  const r = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'");
  return r.rowCount !== 0;
}
