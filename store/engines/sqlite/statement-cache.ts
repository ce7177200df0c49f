import type { Database, Statement } from 'better-sqlite3';

/** Prepared statements by SQL text, per connection (bounded; oldest dropped first). */
export class StatementCache {
  private readonly cache = new Map<string, Statement>();

  constructor(
    private readonly db: Database,
    private readonly max = 500,
  ) {}

  get(sql: string): Statement {
    let stmt = this.cache.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      if (this.cache.size >= this.max) {
        const oldest = this.cache.keys().next();
        if (oldest.done !== true) this.cache.delete(oldest.value);
      }
      this.cache.set(sql, stmt);
    }
    return stmt;
  }
}
