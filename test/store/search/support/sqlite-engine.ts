import Database from 'better-sqlite3';
import type {
  Engine,
  QueryOptions,
  RunResult,
  SqlValue,
  Tx,
} from '../../../../store/engines/engine.js';
import { QueryTimeoutError } from '../../../../store/engines/engine.js';

/**
 * A minimal test-only Engine over better-sqlite3 (the store's real SQLite engine replaces it
 * once merged). Deadlines are checked after each statement.
 */
export class TestSqliteEngine implements Engine {
  readonly dialect = 'sqlite' as const;
  readonly db: Database.Database;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
  }

  private check(opts?: QueryOptions): void {
    if (opts?.deadline !== undefined && Date.now() > opts.deadline)
      throw new QueryTimeoutError('query over budget');
  }

  all<T>(sql: string, params: readonly SqlValue[] = [], opts?: QueryOptions): Promise<T[]> {
    try {
      const rows = this.db.prepare(sql).all(...params) as T[];
      this.check(opts);
      return Promise.resolve(rows);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  get<T>(
    sql: string,
    params: readonly SqlValue[] = [],
    opts?: QueryOptions,
  ): Promise<T | undefined> {
    try {
      const row = this.db.prepare(sql).get(...params) as T | undefined;
      this.check(opts);
      return Promise.resolve(row);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    try {
      const r = this.db.prepare(sql).run(...params);
      return Promise.resolve({ changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) });
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** SQLite has a single writer: a transaction already excludes every other. */
  lockKey(): Promise<void> {
    return Promise.resolve();
  }

  migrate(statements: readonly string[]): Promise<void> {
    for (const s of statements) this.db.exec(s);
    return Promise.resolve();
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const next = this.chain.then(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this);
        this.db.exec('COMMIT');
        return out;
      } catch (e) {
        this.db.exec('ROLLBACK');
        throw e;
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}
