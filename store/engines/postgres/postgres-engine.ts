import type { PoolClient } from 'pg';
import {
  QueryTimeoutError,
  type Engine,
  type QueryOptions,
  type RunResult,
  type SqlValue,
  type Tx,
} from '../engine.js';
import { checkSchemaName, parsePostgresUrl } from './connection-options.js';
import { findSqlState, isRetryable, SQLSTATE, toError } from './errors.js';
import { migrate } from './migrate.js';
import { budgetMs, PgTransaction, type IsolationSetting } from './pg-transaction.js';
import { runResult } from './run-result.js';
import { StatementCache } from './statement-cache.js';
import { hearthTypes, loadPg } from './type-parsers.js';

export interface PostgresEngineOptions {
  /** `postgres://user@host:port/db?schema=name` (STORE_URL). */
  url: string;
  /** Overrides the URL's `schema` (default `hearth`); auth and audit use schemas of their own. */
  schema?: string;
  /** Pooled connections (default 10). */
  poolSize?: number;
  /**
   * Isolation of `transaction()` (default `auto`). `serializable`: every transaction behaves as if
   * the transactions of all processes ran one after another — what the seam promises and what the
   * SQLite engine gives by having one writer; conflicts abort with a serialization failure and the
   * engine runs the transaction again. `auto` (default): the same, except that a transaction whose
   * first call is `tx.lockKey` runs READ COMMITTED, ordered by its advisory locks — the store's
   * writes lock the resource (and conditional operations the type) first, so they never abort on
   * SERIALIZABLE's page-level false conflicts. `read committed`: every transaction; read-then-write
   * races are then the caller's `lockKey`'s to prevent.
   */
  isolation?: IsolationSetting;
  /** Attempts of one transaction on serialization failures and deadlocks (default 30). */
  maxAttempts?: number;
  /** Errors of idle pooled connections (a server restart); such a connection is dropped. */
  onIdleError?: (err: Error) => void;
}

export interface PostgresEngine extends Engine {
  readonly schema: string;
  /** Transactions committed, and attempts run again after a serialization failure or deadlock. */
  stats(): { transactions: number; retries: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The PostgreSQL engine: a `pg` Pool whose connections put `schema` first on the search_path,
 * `?` placeholders numbered, named prepared statements, int8 as JS numbers when safe.
 *
 * `transaction(fn)` runs `fn` on one pooled connection between BEGIN and COMMIT. On a serialization
 * failure or deadlock (SQLSTATE 40001/40P01, also when `fn` caught and re-threw it) the attempt is
 * rolled back and `fn` runs again, with jittered backoff, after first re-taking the advisory locks
 * the failed attempt had taken: `fn` must therefore have no effect outside the database before it
 * returns. The transaction resolves once COMMIT succeeded. A failed statement aborts the whole
 * PostgreSQL transaction (unlike SQLite): do not catch a statement error inside `fn` and go on —
 * write `INSERT … ON CONFLICT` instead; COMMIT after such a failure rejects.
 *
 * `tx.lockKey(key)` = `pg_advisory_xact_lock(hashtext(schema), hashtext(key))`: every transaction in
 * every process locking the same key runs after this one ends. Called first, it also picks the
 * isolation under `auto` (see `isolation`); under SERIALIZABLE it is then a session lock taken
 * before BEGIN, so the snapshot is taken after the wait.
 *
 * Queries outside a transaction run in autocommit on any pooled connection; with a `deadline` they
 * run inside a short READ COMMITTED transaction under `SET LOCAL statement_timeout`, and a query
 * stopped by it rejects with QueryTimeoutError.
 */
/**
 * A query's statement_timeout on the budget connections: the time left rounded down to a 250 ms
 * step below it (exact below 1 s), so consecutive searches with a fresh budget share one setting
 * and skip the SET. A full budget and the same budget a millisecond later fall on the same step
 * (10,000 and 9,999 ms both give 9,750): rounding 10,000 to itself made the two queries of one
 * search alternate 10,000 and 9,750 on a connection, two SET round trips per search. A query is
 * stopped at most 250 ms before its deadline, never after it.
 */
export function budgetStep(leftMs: number): number {
  return leftMs < 1000 ? leftMs : Math.floor((leftMs - 1) / 250) * 250;
}

export function openPostgresEngine(opts: PostgresEngineOptions): PostgresEngine {
  const target = parsePostgresUrl(opts.url);
  const schema = checkSchemaName(opts.schema ?? target.schema);
  const poolConfig = {
    connectionString: target.connectionString,
    max: opts.poolSize ?? 10,
    types: hearthTypes,
    application_name: 'hearth',
    // standard_conforming_strings: lock keys are sent as literals next to BEGIN (one round trip).
    // random_page_cost 1.1 (SSD / cached data, instead of the spinning-disk default 4): with 4 a
    // patient + code search hashed every Observation's index entry (8.7 ms) rather than looking up
    // the patient's 165 references by key (0.7 ms).
    options: `-c search_path=${schema},public -c standard_conforming_strings=on -c random_page_cost=1.1`,
  };
  const { Pool } = loadPg();
  const pool = new Pool(poolConfig);
  pool.on('error', (err) => opts.onIdleError?.(err));
  // Reads with a deadline outside a transaction: connections of their own whose session
  // statement_timeout is the budget rounded down (see budgetStep), set only when it changes — one
  // round trip per query instead of BEGIN + SET LOCAL, the query, COMMIT (under load the three
  // cost a search 4-5 ms at p95). No other work runs on these connections.
  const budgetPool = new Pool(poolConfig);
  budgetPool.on('error', (err) => opts.onIdleError?.(err));
  const sessionTimeout = new WeakMap<PoolClient, number>();
  const statements = new StatementCache();
  const isolation = opts.isolation ?? 'auto';
  const maxAttempts = opts.maxAttempts ?? 30;
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  let transactions = 0;
  let retries = 0;

  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  };

  const withClient = async <T>(fn: (client: PoolClient) => Promise<T>): Promise<T> => {
    if (closed) throw new Error('engine is closed');
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      return await fn(client);
    } catch (err) {
      const e = toError(err);
      if (!/^[0-9A-Z]{5}$/.test(String((e as { code?: unknown }).code))) broken = e;
      throw e;
    } finally {
      client.release(broken);
    }
  };

  /** One attempt of `fn`; the retry loop lives in `transaction`. */
  const attempt = <T>(
    client: PoolClient,
    iso: IsolationSetting,
    prelocks: ReadonlySet<string>,
    fn: (tx: Tx) => Promise<T>,
  ): { tx: PgTransaction; result: Promise<T> } => {
    const tx = new PgTransaction(client, { isolation: iso, schema, statements });
    const result = (async () => {
      try {
        await tx.prelock(prelocks);
        const value = await fn(tx.handle());
        await tx.commit();
        return value;
      } catch (err) {
        await tx.rollback();
        throw err;
      } finally {
        await tx.unlockSession();
      }
    })();
    return { tx, result };
  };

  const transaction = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('engine is closed'));
    return track(
      (async () => {
        let prelocks = new Set<string>();
        let iso: IsolationSetting = isolation;
        for (let n = 1; ; n += 1) {
          const client = await pool.connect();
          const { tx, result } = attempt(client, iso, prelocks, fn);
          try {
            const value = await result;
            transactions += 1;
            return value;
          } catch (err) {
            if ((isRetryable(err) || tx.sawRetryable) && n < maxAttempts) {
              retries += 1;
              prelocks = new Set([...prelocks, ...tx.locked]);
              iso = tx.decided ?? iso;
              await sleep(Math.random() * Math.min(100, 2 ** n));
              continue;
            }
            throw err;
          } finally {
            client.release(tx.broken);
          }
        }
      })(),
    );
  };

  const read = async <T>(
    sql: string,
    params: readonly SqlValue[],
    o: QueryOptions,
  ): Promise<T[]> => {
    if (o.deadline === undefined) {
      if (closed) throw new Error('engine is closed');
      const stmt = o.planEach === true ? statements.unnamed(sql) : statements.get(sql);
      return (await pool.query({ ...stmt, values: params as SqlValue[] })).rows as T[];
    }
    if (closed) throw new Error('engine is closed');
    const timeout = budgetStep(budgetMs(o.deadline));
    const client = await budgetPool.connect();
    let broken: Error | undefined;
    try {
      if (sessionTimeout.get(client) !== timeout) {
        sessionTimeout.delete(client);
        await client.query(`SET statement_timeout = ${timeout}`);
        sessionTimeout.set(client, timeout);
      }
      const stmt = o.planEach === true ? statements.unnamed(sql) : statements.get(sql);
      return (await client.query({ ...stmt, values: params as SqlValue[] })).rows as T[];
    } catch (err) {
      const e = toError(err);
      if (findSqlState(e, [SQLSTATE.queryCanceled]) !== undefined)
        throw new QueryTimeoutError('query exceeded its time budget', { cause: e });
      if (!/^[0-9A-Z]{5}$/.test(String((e as { code?: unknown }).code))) broken = e;
      throw e;
    } finally {
      client.release(broken);
    }
  };

  return {
    dialect: 'postgres',
    schema,
    all: <T>(sql: string, params: readonly SqlValue[] = [], o: QueryOptions = {}) =>
      read<T>(sql, params, o),
    get: async <T>(sql: string, params: readonly SqlValue[] = [], o: QueryOptions = {}) =>
      (await read<T>(sql, params, o))[0],
    async run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
      if (closed) throw new Error('engine is closed');
      const stmt = statements.get(sql);
      return runResult((await pool.query({ ...stmt, values: params as SqlValue[] })).rowCount);
    },
    transaction,
    migrate: (list: readonly string[]) =>
      track(withClient((client) => migrate(client, schema, list))),
    stats: () => ({ transactions, retries }),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
      await Promise.all([pool.end(), budgetPool.end()]);
    },
  };
}
