import type { RunResult } from '../engine.js';

/**
 * PostgreSQL has no "last insert rowid": callers write `INSERT … RETURNING rid` and use `get`
 * (SQLite ≥ 3.35 accepts the same SQL). Reading `lastInsertRowid` here throws, so code written
 * against SQLite's rowid fails loudly on PostgreSQL instead of using a wrong key.
 */
export function runResult(rowCount: number | null): RunResult {
  return {
    changes: rowCount ?? 0,
    get lastInsertRowid(): number {
      throw new Error(
        'lastInsertRowid is not available on PostgreSQL: use INSERT … RETURNING with get()',
      );
    },
  };
}
