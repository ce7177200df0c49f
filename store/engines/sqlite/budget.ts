import type { Database } from 'better-sqlite3';
import { QueryTimeoutError } from '../engine.js';

/**
 * Query time budgets for a synchronous driver. better-sqlite3 cannot interrupt a running statement,
 * so the budget is enforced from inside it: the SQL function `hearth_budget()` (always 1) throws once
 * the deadline of the running query has passed — put it in the WHERE clause of any scan that may be
 * long — and row iteration checks the clock as rows come out.
 */
export class Budget {
  private deadline = Number.POSITIVE_INFINITY;

  constructor(db: Database) {
    db.function('hearth_budget', { deterministic: false, varargs: false }, () => {
      if (Date.now() > this.deadline) throw new QueryTimeoutError('query exceeded its time budget');
      return 1;
    });
  }

  /** Runs `fn` (synchronous) under `deadline`; nested calls keep the earlier deadline. */
  within<T>(deadline: number | undefined, fn: () => T): T {
    const outer = this.deadline;
    this.deadline = Math.min(outer, deadline ?? Number.POSITIVE_INFINITY);
    try {
      if (Date.now() > this.deadline) throw new QueryTimeoutError('query exceeded its time budget');
      return fn();
    } finally {
      this.deadline = outer;
    }
  }

  /** Throws when the running query is past its deadline (call per row). */
  check(): void {
    if (Date.now() > this.deadline) throw new QueryTimeoutError('query exceeded its time budget');
  }
}
