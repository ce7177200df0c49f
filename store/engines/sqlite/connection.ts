import type { Database } from 'better-sqlite3';
import type { QueryOptions, Queryable, RunResult, SqlValue } from '../engine.js';
import { Budget } from './budget.js';
import { StatementCache } from './statement-cache.js';

type Params = readonly SqlValue[];

const needsBuffer = (p: SqlValue): boolean => p instanceof Uint8Array && !Buffer.isBuffer(p);

/** The parameters as better-sqlite3 takes them (a Uint8Array as a Buffer); no copy when none is. */
function bind(params: Params): readonly unknown[] {
  if (!params.some(needsBuffer)) return params;
  return params.map((p) => (needsBuffer(p) ? Buffer.from(p as Uint8Array) : p));
}

/** One better-sqlite3 connection with its statement cache and time budget. */
export class Connection {
  readonly statements: StatementCache;
  readonly budget: Budget;

  constructor(readonly db: Database) {
    this.statements = new StatementCache(db);
    this.budget = new Budget(db);
  }

  all<T>(sql: string, params: Params, opts: QueryOptions): T[] {
    const stmt = this.statements.get(sql);
    return this.budget.within(opts.deadline, () => {
      const rows: T[] = [];
      for (const row of stmt.iterate(...bind(params))) {
        this.budget.check();
        rows.push(row as T);
      }
      return rows;
    });
  }

  get(sql: string, params: Params, opts: QueryOptions): unknown {
    const stmt = this.statements.get(sql);
    return this.budget.within(opts.deadline, () => stmt.get(...bind(params)));
  }

  run(sql: string, params: Params): RunResult {
    const info = this.statements.get(sql).run(...bind(params));
    return { changes: info.changes, lastInsertRowid: Number(info.lastInsertRowid) };
  }

  runMany(sql: string, rows: readonly Params[]): void {
    const stmt = this.statements.get(sql);
    for (const params of rows) stmt.run(...bind(params));
  }
}

/**
 * The async Queryable face of a connection. `guard` runs before each call (a transaction handle
 * uses it to refuse work once its transaction has ended).
 */
export function queryable(conn: Connection, guard: () => void = () => undefined): Queryable {
  return {
    dialect: 'sqlite',
    all: <T>(sql: string, params: Params = [], opts: QueryOptions = {}) =>
      attempt(() => {
        guard();
        return conn.all<T>(sql, params, opts);
      }),
    get: <T>(sql: string, params: Params = [], opts: QueryOptions = {}) =>
      attempt(() => {
        guard();
        return conn.get(sql, params, opts) as T | undefined;
      }),
    run: (sql: string, params: Params = []) =>
      attempt(() => {
        guard();
        return conn.run(sql, params);
      }),
  };
}

/** `Tx.runMany` on a connection (`guard` as for `queryable`). */
export function runManyOn(
  conn: Connection,
  guard: () => void,
): (sql: string, rows: readonly Params[]) => Promise<void> {
  return (sql, rows) =>
    attempt(() => {
      guard();
      conn.runMany(sql, rows);
    });
}

function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
