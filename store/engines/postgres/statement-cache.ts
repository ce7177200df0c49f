import { toPositional } from './placeholders.js';

/** A statement ready for `pg`: translated text and, for cached ones, a prepared-statement name. */
export interface PreparedSql {
  text: string;
  /** Set for the statements PostgreSQL keeps prepared per connection (parsed and planned once). */
  name?: string;
}

/**
 * Translated SQL by its `?` text, and a prepared-statement name for each of the first `max`
 * distinct texts. `pg` prepares a named statement once per pooled connection and reuses it after;
 * PostgreSQL keeps it for the connection's life, so the number of names is bounded: SQL texts past
 * the bound run unnamed (parsed on every call), which keeps server memory per connection bounded
 * when search builds many distinct query shapes.
 */
export class StatementCache {
  private readonly named = new Map<string, PreparedSql>();
  private readonly oneShot = new Map<string, PreparedSql>();

  constructor(private readonly max = 1000) {}

  /** `sql` translated, never named: PostgreSQL plans it with the values of each call. */
  unnamed(sql: string): PreparedSql {
    const hit = this.oneShot.get(sql);
    if (hit !== undefined) return hit;
    if (this.oneShot.size >= this.max) this.oneShot.clear();
    const prepared = { text: toPositional(sql).text };
    this.oneShot.set(sql, prepared);
    return prepared;
  }

  get(sql: string): PreparedSql {
    const hit = this.named.get(sql) ?? this.oneShot.get(sql);
    if (hit !== undefined) return hit;
    const { text } = toPositional(sql);
    if (this.named.size < this.max) {
      const prepared = { text, name: `hearth_${this.named.size + 1}` };
      this.named.set(sql, prepared);
      return prepared;
    }
    if (this.oneShot.size >= this.max) this.oneShot.clear();
    const prepared = { text };
    this.oneShot.set(sql, prepared);
    return prepared;
  }
}
