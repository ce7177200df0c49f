import type { SqlValue } from '../../engines/engine.js';

/** Collects bound parameters while SQL text is assembled; hands out fresh table aliases. */
export class SqlBuilder {
  readonly params: SqlValue[] = [];
  private n = 0;

  /** Binds `v` and returns its placeholder. */
  p(v: SqlValue): string {
    this.params.push(v);
    return '?';
  }

  list(values: readonly SqlValue[]): string {
    return values.map((v) => this.p(v)).join(', ');
  }

  alias(prefix: string): string {
    return `${prefix}${++this.n}`;
  }
}

/** Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`. */
export function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export const or = (parts: string[]): string =>
  parts.length === 0 ? '0 = 1' : parts.length === 1 ? (parts[0] ?? '') : `(${parts.join(' OR ')})`;
export const and = (parts: string[]): string =>
  parts.length === 0 ? '1 = 1' : parts.length === 1 ? (parts[0] ?? '') : `(${parts.join(' AND ')})`;
