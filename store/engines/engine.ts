/**
 * The engine seam: the only place SQL meets a database. Handlers and search code talk to these
 * interfaces, so the PostgreSQL engine can be added without touching them. SQL is written with `?`
 * placeholders (the PostgreSQL engine numbers them) and is always parameterised.
 */

export type SqlScalar = string | number | bigint | null | Uint8Array;

/** A parameter: a scalar, or on PostgreSQL only an array of them (`?::text[]`). */
export type SqlValue = SqlScalar | readonly (string | number | null)[];

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
  /**
   * PostgreSQL (where every statement is a round trip, and a statement's fixed cost is most of a
   * small insert's): `item` joins the items `batch` writes in one statement. That statement is sent
   * before anything else this transaction runs or ends with, once `batch.max` items wait, at the
   * end of the event-loop turn, or at once with `now`. Resolves when it has run; rejects with its
   * error (every item of it: the caller attributes). SQLite has no round trips to save and leaves
   * it out.
   */
  enlist?<I>(batch: StatementBatch<I>, item: I, now?: boolean): Promise<void>;
}

/** A statement that writes several items at once (see `Tx.enlist`). */
export interface StatementBatch<I> {
  /** The most items one statement carries. */
  readonly max: number;
  /** The statement writing `items`, in their order. */
  statement(items: readonly I[]): { sql: string; params: SqlValue[] };
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
