/**
 * The one door to the auth database, SQLite (`DATA_DIR/auth.db`) or PostgreSQL (`<schema>_auth`).
 * Every store in auth/ writes its SQL once against this interface: `?` placeholders, SQL both engines
 * understand (upserts with ON CONFLICT, RETURNING, CASE), and `dialect` for the few spots that differ.
 */
export type AuthEngine = 'sqlite' | 'postgres';

export type SqlValue = string | number | null;

export interface AuthQueries {
  /** The first row, or undefined. */
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface AuthSql extends AuthQueries {
  readonly engine: AuthEngine;
  /** Where the state lives, for messages: the auth.db path or `postgres schema <name>`. */
  readonly location: string;
  /**
   * Runs `fn` in one transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: READ COMMITTED). With `lock`,
   * the transaction first takes an exclusive lock of that name, held until it ends, across every
   * process on the database (PostgreSQL: an advisory transaction lock; SQLite's writer lock already
   * is one). On SQLite, statements issued outside `fn` meanwhile wait until it ends.
   */
  transaction<T>(fn: (tx: AuthQueries) => Promise<T>, lock?: string): Promise<T>;
  /** A trivial round trip: resolves when the database answers. */
  ping(): Promise<void>;
  /**
   * Where the engine can tell cheaply (SQLite): a number that stays the same only as long as nothing
   * was committed to the database since it was last read, by this connection or any other (another
   * process, the CLI). `undefined` when it cannot tell (PostgreSQL, or a transaction in progress).
   */
  changeStamp?(): number | undefined;
  close(): Promise<void>;
}

/** Seconds since the epoch. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Whether `err` is a unique-constraint violation (SQLite or PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  return (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    (typeof message === 'string' && /UNIQUE constraint failed/.test(message))
  );
}
