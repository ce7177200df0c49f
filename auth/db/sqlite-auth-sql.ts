import type Database from 'better-sqlite3';
import type { AuthQueries, AuthSql, SqlValue } from './auth-sql.js';

type Statement = Database.Statement<SqlValue[]>;

/**
 * AuthSql on better-sqlite3 (synchronous underneath; prepared statements cached per SQL text). A
 * transaction holds the connection: statements from other callers wait for it to end, so nothing
 * else slips into it between its awaits.
 */
export class SqliteAuthSql implements AuthSql {
  readonly engine = 'sqlite' as const;
  readonly #statements = new Map<string, Statement>();
  #busy: Promise<void> | undefined;
  readonly #dataVersion: Database.Statement<[], number>;
  /** The last `PRAGMA data_version` read, and the stamp {@link changeStamp} hands out. */
  #seenVersion: number | undefined;
  #stamp = 0;

  constructor(
    readonly db: Database.Database,
    readonly location: string,
  ) {
    this.#dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  #prepare(sql: string): Statement {
    let s = this.#statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare<SqlValue[]>(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  /** Runs a statement; one that may write moves the change stamp on (data_version ignores our own). */
  #exec<R>(sql: string, use: (s: Statement) => R): R {
    const s = this.#prepare(sql);
    try {
      return use(s);
    } finally {
      if (!s.readonly) this.#stamp += 1;
    }
  }

  readonly #direct: AuthQueries = {
    get: <T>(sql: string, params: readonly SqlValue[] = []) =>
      Promise.resolve(this.#exec(sql, (s) => s.get(...params) as T | undefined)),
    all: <T>(sql: string, params: readonly SqlValue[] = []) =>
      Promise.resolve(this.#exec(sql, (s) => s.all(...params) as T[])),
    run: (sql: string, params: readonly SqlValue[] = []) =>
      Promise.resolve(this.#exec(sql, (s) => s.run(...params).changes)),
  };

  /**
   * SQLite's `PRAGMA data_version` changes whenever another connection (another process, the CLI)
   * commits to the file; this connection's own writes move the stamp on in {@link #exec} and at the
   * end of every transaction. Undefined while a transaction holds the connection.
   */
  changeStamp(): number | undefined {
    if (this.#busy !== undefined) return undefined;
    const version = this.#dataVersion.get();
    if (version !== this.#seenVersion) {
      this.#seenVersion = version;
      this.#stamp += 1;
    }
    return this.#stamp;
  }

  async #idle(): Promise<void> {
    while (this.#busy !== undefined) await this.#busy;
  }

  async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    if (this.#busy !== undefined) await this.#idle();
    return this.#direct.get<T>(sql, params);
  }

  async all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    if (this.#busy !== undefined) await this.#idle();
    return this.#direct.all<T>(sql, params);
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    if (this.#busy !== undefined) await this.#idle();
    return this.#direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: AuthQueries) => Promise<T>): Promise<T> {
    await this.#idle();
    let release = () => {};
    this.#busy = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const value = await fn(this.#direct);
        this.db.exec('COMMIT');
        return value;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.#stamp += 1;
      this.#busy = undefined;
      release();
    }
  }

  async ping(): Promise<void> {
    await this.get('SELECT 1 AS one');
  }

  async close(): Promise<void> {
    await this.#idle();
    this.db.close();
  }
}
