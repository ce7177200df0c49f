/**
 * The engine seam: the only place SQL meets a database. Handlers and search code talk to these
 * interfaces, so the PostgreSQL engine can be added without touching them. SQL is written with `?`
 * placeholders (the PostgreSQL engine numbers them) and is always parameterised.
 */

export type SqlValue = string | number | bigint | null | Uint8Array;

export type DialectName = 'sqlite' | 'postgres';

export interface RunResult {
  changes: number;
  /** SQLite rowid of the last insert (PostgreSQL: use `RETURNING` with `get`). */
  lastInsertRowid: number;
}

export interface QueryOptions {
  /** Absolute time (ms since epoch) after which the query is stopped with a QueryTimeoutError. */
  deadline?: number;
  /**
   * Plan the statement for this call's values every time (PostgreSQL: not a named prepared
   * statement, whose cached generic plan ignores the values). For searches, where one SQL text
   * meets values of very different selectivity (a quarter of dates, one patient or every lab).
   */
  planEach?: boolean;
}

export interface Queryable {
  readonly dialect: DialectName;
  all<T>(sql: string, params?: readonly SqlValue[], opts?: QueryOptions): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[], opts?: QueryOptions): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
}

/** A unit of work that commits or rolls back as a whole. */
export interface Tx extends Queryable {
  /**
   * Orders this transaction after every other transaction, in this or any other process, that
   * locked the same key, until this one ends (commit or rollback). Conditional operations lock
   * what they search (e.g. `cond:Patient`), `If-Match` updates the resource (`Patient/123`), as the
   * first call of the transaction. SQLite: a no-op, its transactions already run one at a time.
   */
  lockKey(key: string): Promise<void>;
  /**
   * `lockKey` for several keys at once, taken in sorted order (PostgreSQL: one round trip). A
   * transaction that will write many known resources (a transaction Bundle) locks them up front.
   */
  lockKeys(keys: readonly string[]): Promise<void>;
  /**
   * Runs `sql` once for each parameter list, in order; a failing run rejects (the runs before it
   * stay in the transaction). SQLite runs them in one synchronous loop, without a promise per
   * row; PostgreSQL one after another.
   */
  runMany(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<void>;
}

export interface Engine extends Queryable {
  /** Applies DDL statements idempotently (versioned migrations where the engine needs them). */
  migrate(statements: readonly string[]): Promise<void>;
  /**
   * Runs `fn` in a write transaction. Transactions are serialised; the SQLite engine may commit
   * several that arrive together in one fsync (group commit, each in its own savepoint), and only
   * resolves once the commit is durable. A throw rolls back this transaction alone.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A query ran past its time budget and was stopped. */
export class QueryTimeoutError extends Error {
  override readonly name = 'QueryTimeoutError';
}
