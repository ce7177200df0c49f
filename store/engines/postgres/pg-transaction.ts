import type { PoolClient, QueryResult, QueryResultRow } from 'pg';
import {
  QueryTimeoutError,
  type QueryOptions,
  type RunResult,
  type SqlValue,
  type Tx,
} from '../engine.js';
import { isRetryable, SQLSTATE, findSqlState, toError } from './errors.js';
import { runResult } from './run-result.js';
import type { StatementCache } from './statement-cache.js';

export type Isolation = 'serializable' | 'read committed';

export interface TxSettings {
  isolation: Isolation;
  /** Advisory lock keys are scoped by schema, so deployments sharing a database never collide. */
  schema: string;
  statements: StatementCache;
}

/** COMMIT was answered with ROLLBACK: a statement failed earlier and the caller went on. */
export class TransactionAbortedError extends Error {
  override readonly name = 'TransactionAbortedError';
}

const LOCK_XACT = 'SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))';
const LOCK_SESSION = 'SELECT pg_advisory_lock(hashtext($1), hashtext($2))';

/** Milliseconds left before `deadline` (at least 1), or a QueryTimeoutError when none are. */
export function budgetMs(deadline: number | undefined): number {
  if (deadline === undefined) return 0;
  const left = Math.ceil(deadline - Date.now());
  if (left <= 0) throw new QueryTimeoutError('query exceeded its time budget');
  return left;
}

/**
 * One attempt of a transaction on one pooled client. BEGIN is sent lazily with the first query, so
 * a `lockKey` called before any query takes a session-level advisory lock *before* the snapshot
 * exists: the transaction then sees everything committed by the previous holder of the key, even
 * under SERIALIZABLE. Later `lockKey` calls take transaction-level locks. Calls are queued, so
 * queries issued without awaiting each other still run one at a time, each under its own
 * `statement_timeout` (SET LOCAL, changed only when it differs from the previous query's).
 */
export class PgTransaction {
  /** Keys locked during this attempt (a retry takes them all before BEGIN). */
  readonly locked = new Set<string>();
  /** A statement failed with a serialization failure or deadlock. */
  sawRetryable = false;
  /** A connection-level failure: the client must not return to the pool. */
  broken: Error | undefined;
  private begun = false;
  private ended = false;
  private sessionLocks = 0;
  private timeoutMs = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: PoolClient,
    private readonly settings: TxSettings,
  ) {}

  /** The handle given to the caller's function. */
  handle(): Tx {
    return {
      dialect: 'postgres',
      all: <T>(sql: string, params: readonly SqlValue[] = [], opts: QueryOptions = {}) =>
        this.enqueue(async () => (await this.query(sql, params, opts)).rows as T[]),
      get: <T>(sql: string, params: readonly SqlValue[] = [], opts: QueryOptions = {}) =>
        this.enqueue(async () => (await this.query(sql, params, opts)).rows[0] as T | undefined),
      run: (sql: string, params: readonly SqlValue[] = []): Promise<RunResult> =>
        this.enqueue(async () => runResult((await this.query(sql, params, {})).rowCount)),
      lockKey: (key: string) => this.enqueue(() => this.lock(key)),
    };
  }

  /** Takes session-level locks on `keys` (sorted, so two retries never wait on each other in a cycle). */
  async prelock(keys: Iterable<string>): Promise<void> {
    for (const key of [...keys].sort()) await this.lock(key);
  }

  async commit(): Promise<void> {
    await this.chain.catch(() => undefined);
    this.ended = true;
    if (!this.begun) return;
    const result = await this.raw('COMMIT');
    if (result.command === 'ROLLBACK') {
      throw new TransactionAbortedError(
        'transaction rolled back: a statement in it had failed (PostgreSQL aborts the whole transaction)',
      );
    }
  }

  async rollback(): Promise<void> {
    await this.chain.catch(() => undefined);
    this.ended = true;
    if (this.begun && this.broken === undefined) {
      await this.raw('ROLLBACK').catch(() => undefined);
    }
  }

  /** Releases the session-level locks taken by `prelock`/early `lockKey` (after COMMIT/ROLLBACK). */
  async unlockSession(): Promise<void> {
    if (this.sessionLocks === 0 || this.broken !== undefined) return;
    await this.raw('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    this.sessionLocks = 0;
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const next = this.chain.then(() => {
      if (this.ended) throw new Error('transaction already ended (a query was not awaited)');
      return op();
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async lock(key: string): Promise<void> {
    if (this.locked.has(key)) return;
    if (this.begun) {
      await this.query(LOCK_XACT, [this.settings.schema, key], {}, true);
    } else {
      await this.raw(LOCK_SESSION, [this.settings.schema, key]);
      this.sessionLocks += 1;
    }
    this.locked.add(key);
  }

  private async query(
    sql: string,
    params: readonly SqlValue[],
    opts: QueryOptions,
    translated = false,
  ): Promise<QueryResult<QueryResultRow>> {
    const want = budgetMs(opts.deadline);
    if (!this.begun) {
      const timeout = want === 0 ? '' : `; SET LOCAL statement_timeout = ${want}`;
      await this.raw(`BEGIN ISOLATION LEVEL ${this.settings.isolation.toUpperCase()}${timeout}`);
      this.begun = true;
      this.timeoutMs = want;
    } else if (want !== this.timeoutMs) {
      await this.raw(`SET LOCAL statement_timeout = ${want}`);
      this.timeoutMs = want;
    }
    const stmt = translated ? { text: sql } : this.settings.statements.get(sql);
    try {
      return await this.client.query({ ...stmt, values: params as SqlValue[] });
    } catch (err) {
      if (isRetryable(err)) this.sawRetryable = true;
      if (want !== 0 && findSqlState(err, [SQLSTATE.queryCanceled]) !== undefined) {
        throw new QueryTimeoutError('query exceeded its time budget', { cause: err });
      }
      throw this.classify(err);
    }
  }

  private async raw(text: string, values?: SqlValue[]): Promise<QueryResult<QueryResultRow>> {
    try {
      return await this.client.query(text, values);
    } catch (err) {
      throw this.classify(err);
    }
  }

  /** Errors without a SQLSTATE come from the socket: the connection is unusable afterwards. */
  private classify(err: unknown): Error {
    const e = toError(err);
    if (
      typeof (e as { code?: unknown }).code !== 'string' ||
      !/^[0-9A-Z]{5}$/.test(String((e as { code?: unknown }).code))
    ) {
      this.broken = e;
    }
    return e;
  }
}
