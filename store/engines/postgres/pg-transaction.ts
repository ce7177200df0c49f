import type { PoolClient, QueryResult, QueryResultRow } from 'pg';
import {
  QueryTimeoutError,
  type QueryOptions,
  type RunResult,
  type SqlValue,
  type StatementBatch,
  type Tx,
} from '../engine.js';
import { isRetryable, SQLSTATE, findSqlState, toError } from './errors.js';
import { runResult } from './run-result.js';
import type { StatementCache } from './statement-cache.js';

export type Isolation = 'serializable' | 'read committed';

/**
 * `auto`: a transaction whose first call is `lockKey` declares what it conflicts with, and runs
 * READ COMMITTED, ordered by its advisory locks (no snapshot conflicts, no false-positive aborts);
 * any other transaction runs SERIALIZABLE. A retry keeps the isolation of the failed attempt.
 */
export type IsolationSetting = Isolation | 'auto';

export interface TxSettings {
  isolation: IsolationSetting;
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
/** Transaction-level locks on a JSON array of keys, taken in array order. */
const LOCK_XACT_MANY =
  'SELECT count(pg_advisory_xact_lock(hashtext($1), hashtext(k))) AS n FROM jsonb_array_elements_text($2::jsonb) AS k';

/** Items enlisted for one statement (see `Tx.enlist`), and who waits for it. */
interface Pending {
  batch: StatementBatch<never>;
  items: unknown[];
  settle: { resolve: () => void; reject: (err: unknown) => void }[];
}

/** Milliseconds left before `deadline` (at least 1), or a QueryTimeoutError when none are. */
export function budgetMs(deadline: number | undefined): number {
  if (deadline === undefined) return 0;
  const left = Math.ceil(deadline - Date.now());
  if (left <= 0) throw new QueryTimeoutError('query exceeded its time budget');
  return left;
}

/** A SQL string literal (the pool forces standard_conforming_strings, so only `'` is special). */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * One attempt of a transaction on one pooled client. BEGIN is sent lazily with the first call. A
 * `lockKey` before any query: under READ COMMITTED (and `auto`) BEGIN and the transaction-level
 * lock go in one round trip; under SERIALIZABLE it takes a session-level lock *before* BEGIN, so the
 * snapshot is taken after the wait and sees everything the previous holder committed. Later
 * `lockKey` calls take transaction-level locks. Calls are queued, so
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
  /** The isolation this attempt runs at (set at BEGIN); a retry keeps it. */
  decided: Isolation | undefined;
  private begun = false;
  private ended = false;
  private sessionLocks = 0;
  private timeoutMs = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private pending: Pending | undefined;

  constructor(
    private readonly client: PoolClient,
    private readonly settings: TxSettings,
  ) {}

  /** The handle given to the caller's function. */
  handle(): Tx {
    // anything else the transaction runs is queued after the items enlisted before it
    return {
      dialect: 'postgres',
      all: <T>(sql: string, params: readonly SqlValue[] = [], opts: QueryOptions = {}) =>
        this.after(async () => (await this.query(sql, params, opts)).rows as T[]),
      get: <T>(sql: string, params: readonly SqlValue[] = [], opts: QueryOptions = {}) =>
        this.after(async () => (await this.query(sql, params, opts)).rows[0] as T | undefined),
      run: (sql: string, params: readonly SqlValue[] = []): Promise<RunResult> =>
        this.after(async () => runResult((await this.query(sql, params, {})).rowCount)),
      runMany: (sql: string, rows: readonly (readonly SqlValue[])[]) =>
        this.after(async () => {
          for (const params of rows) await this.query(sql, params, {});
        }),
      // A key this transaction holds already needs nothing: not even a wait behind the statements
      // queued before (a transaction Bundle's entries lock what lockKeys took; see writeBehind).
      lockKey: (key: string) =>
        this.locked.has(key) ? Promise.resolve() : this.after(() => this.lock(key)),
      lockKeys: (keys: readonly string[]) => this.after(() => this.lockMany(keys)),
      enlist: <I>(batch: StatementBatch<I>, item: I, now = false) => this.enlist(batch, item, now),
    };
  }

  /**
   * Adds `item` to the statement pending for `batch` (another batch's pending statement is sent
   * first). The statement is sent when `batch.max` items wait, with `now`, before the
   * transaction's next other call or its end, or at the end of this event-loop turn.
   */
  private enlist<I>(batch: StatementBatch<I>, item: I, now: boolean): Promise<void> {
    if (this.pending !== undefined && this.pending.batch !== batch) this.send();
    let pending = this.pending;
    if (pending === undefined) {
      const fresh: Pending = { batch, items: [], settle: [] };
      pending = fresh;
      this.pending = fresh;
      setImmediate(() => {
        if (this.pending === fresh) this.send();
      });
    }
    pending.items.push(item);
    const done = new Promise<void>((resolve, reject) => pending.settle.push({ resolve, reject }));
    if (now || pending.items.length >= batch.max) this.send();
    return done;
  }

  /** Queues the pending batch statement (if any) on the connection. */
  private send(): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    const sent = this.enqueue(async () => {
      const { sql, params } = p.batch.statement(p.items as never[]);
      await this.query(sql, params, {});
    });
    sent.then(
      () => {
        for (const s of p.settle) s.resolve();
      },
      (err: unknown) => {
        for (const s of p.settle) s.reject(err);
      },
    );
  }

  /** `op` queued after the pending batch statement. */
  private after<T>(op: () => Promise<T>): Promise<T> {
    this.send();
    return this.enqueue(op);
  }

  /** Locks `keys` before anything else (sorted, so two retries never wait on each other in a cycle). */
  async prelock(keys: Iterable<string>): Promise<void> {
    const sorted = [...keys].sort();
    if (sorted.length === 0) return;
    if (this.settings.isolation === 'serializable') {
      for (const key of sorted) await this.lock(key);
    } else {
      await this.begin('read committed', 0, sorted);
    }
  }

  async commit(): Promise<void> {
    this.send();
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
    const unsent = this.pending;
    this.pending = undefined;
    for (const s of unsent?.settle ?? [])
      s.reject(new Error('not written: the transaction rolled back first'));
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
    } else if (this.settings.isolation === 'serializable') {
      await this.raw(LOCK_SESSION, [this.settings.schema, key]);
      this.sessionLocks += 1;
    } else {
      await this.begin('read committed', 0, [key]);
    }
    this.locked.add(key);
  }

  /** Locks the keys not locked yet, sorted, in one round trip once the transaction has begun. */
  private async lockMany(keys: readonly string[]): Promise<void> {
    const todo = [...new Set(keys)].filter((k) => !this.locked.has(k)).sort();
    if (todo.length === 0) return;
    if (!this.begun && this.settings.isolation !== 'serializable') {
      await this.begin('read committed', 0, todo);
      return;
    }
    if (!this.begun) {
      for (const key of todo) await this.lock(key);
      return;
    }
    await this.query(LOCK_XACT_MANY, [this.settings.schema, JSON.stringify(todo)], {}, true);
    for (const key of todo) this.locked.add(key);
  }

  /** BEGIN, the statement timeout and transaction-level locks on `keys`, in one round trip. */
  private async begin(
    isolation: Isolation,
    timeoutMs: number,
    keys: readonly string[],
  ): Promise<void> {
    const schema = literal(this.settings.schema);
    const parts = [
      `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`,
      ...(timeoutMs === 0 ? [] : [`SET LOCAL statement_timeout = ${timeoutMs}`]),
      ...keys.map(
        (k) => `SELECT pg_advisory_xact_lock(hashtext(${schema}), hashtext(${literal(k)}))`,
      ),
    ];
    this.decided = isolation;
    try {
      await this.raw(parts.join('; '));
    } catch (err) {
      if (isRetryable(err)) this.sawRetryable = true;
      throw err;
    } finally {
      // BEGIN ran even when a lock wait then failed: the rollback must end the transaction.
      this.begun = true;
    }
    this.timeoutMs = timeoutMs;
    for (const k of keys) this.locked.add(k);
  }

  private async query(
    sql: string,
    params: readonly SqlValue[],
    opts: QueryOptions,
    translated = false,
  ): Promise<QueryResult<QueryResultRow>> {
    const want = budgetMs(opts.deadline);
    if (!this.begun) {
      const iso = this.settings.isolation === 'auto' ? 'serializable' : this.settings.isolation;
      await this.begin(iso, want, []);
    } else if (want !== this.timeoutMs) {
      await this.raw(`SET LOCAL statement_timeout = ${want}`);
      this.timeoutMs = want;
    }
    const stmt = translated
      ? { text: sql }
      : opts.planEach === true
        ? this.settings.statements.unnamed(sql)
        : this.settings.statements.get(sql);
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
