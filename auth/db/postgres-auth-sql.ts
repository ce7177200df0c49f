import { createHash } from 'node:crypto';
import pg, { type PoolClient, type QueryConfig } from 'pg';
import { int8AsNumber, withPgTransaction } from '../../common/postgres-pool.js';
import type { AuthQueries, AuthSql, SqlValue } from './auth-sql.js';
import { AUTH_PG_MIGRATIONS } from './postgres-schema.js';
import type { AuthPostgresTarget } from './postgres-target.js';

/** Serialises migrations and key bootstrap of every Hearth auth schema on a database. */
const MIGRATE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('hearth:auth-migrate'))";

interface Translated {
  readonly name: string;
  readonly text: string;
}

/**
 * AuthSql on a pg Pool whose connections have `search_path` set to the auth schema. `?` placeholders
 * become `$n`; every statement is a named (server-side prepared) statement, parsed once per
 * connection.
 */
export class PostgresAuthSql implements AuthSql {
  readonly engine = 'postgres' as const;
  readonly location: string;
  readonly #translated = new Map<string, Translated>();
  readonly #pooled: AuthQueries;

  private constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
  ) {
    this.location = `postgres schema ${schema}`;
    this.#pooled = this.#queries(pool);
  }

  /** Connects and brings the schema up to date (idempotent; concurrent starts wait for each other). */
  static async open(
    target: AuthPostgresTarget,
    opts: { poolSize?: number; onIdleError?: (err: Error) => void } = {},
  ): Promise<PostgresAuthSql> {
    const pool = new pg.Pool({
      connectionString: target.connectionString,
      max: opts.poolSize ?? 10,
      types: int8AsNumber,
      application_name: 'hearth-auth',
      options: `-c search_path=${target.schema}`,
    });
    pool.on('error', (err) => opts.onIdleError?.(err));
    const sql = new PostgresAuthSql(pool, target.schema);
    try {
      await sql.#migrate();
    } catch (err) {
      await pool.end();
      throw err;
    }
    return sql;
  }

  async #migrate(): Promise<void> {
    const s = `"${this.schema}"`;
    await withPgTransaction(this.pool, async (client) => {
      await client.query(MIGRATE_LOCK);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.auth_migration (version integer PRIMARY KEY, applied_at bigint NOT NULL, sha256 text NOT NULL)`,
      );
      const done = await client.query<{ v: number | null }>(
        `SELECT max(version) AS v FROM ${s}.auth_migration`,
      );
      const applied = done.rows[0]?.v ?? 0;
      for (let v = applied + 1; v <= AUTH_PG_MIGRATIONS.length; v++) {
        const statement = AUTH_PG_MIGRATIONS[v - 1] ?? '';
        await client.query(statement);
        await client.query(
          `INSERT INTO ${s}.auth_migration (version, applied_at, sha256) VALUES ($1, $2, $3)`,
          [v, Date.now(), createHash('sha256').update(statement).digest('hex')],
        );
      }
    });
  }

  #translate(sql: string): Translated {
    let t = this.#translated.get(sql);
    if (t === undefined) {
      let n = 0;
      const text = sql.replace(/\?/g, () => `$${++n}`);
      const name = `hearth_auth_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      t = { name, text };
      this.#translated.set(sql, t);
    }
    return t;
  }

  #config(sql: string, params: readonly SqlValue[]): QueryConfig<SqlValue[]> {
    const { name, text } = this.#translate(sql);
    return { name, text, values: [...params] };
  }

  #queries(on: pg.Pool | PoolClient): AuthQueries {
    return {
      get: async <T>(sql: string, params: readonly SqlValue[] = []) => {
        const r = await on.query(this.#config(sql, params));
        return r.rows[0] as T | undefined;
      },
      all: async <T>(sql: string, params: readonly SqlValue[] = []) => {
        const r = await on.query(this.#config(sql, params));
        return r.rows as T[];
      },
      run: async (sql: string, params: readonly SqlValue[] = []) => {
        const r = await on.query(this.#config(sql, params));
        return r.rowCount ?? 0;
      },
    };
  }

  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.#pooled.get<T>(sql, params);
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.#pooled.all<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.#pooled.run(sql, params);
  }

  transaction<T>(fn: (tx: AuthQueries) => Promise<T>, lock?: string): Promise<T> {
    return withPgTransaction(this.pool, async (client) => {
      if (lock !== undefined) {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
          this.schema,
          lock,
        ]);
      }
      return fn(this.#queries(client));
    });
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
