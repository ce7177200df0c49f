/**
 * Translates the seam's `?` placeholders into PostgreSQL's `$1, $2, …`. A `?` is a placeholder only
 * in plain SQL text: never inside a string literal ('…', E'…' with backslash escapes), a quoted
 * identifier ("…"), a dollar-quoted body ($tag$…$tag$) or a comment (-- … and nested /* … *\/).
 * Consequence: PostgreSQL's jsonb `?`, `?|` and `?&` operators cannot be written as operators; use
 * `jsonb_exists(…)`, `jsonb_exists_any(…)` and `jsonb_exists_all(…)` instead.
 */
export interface Positional {
  /** The SQL with `$n` placeholders. */
  text: string;
  /** How many placeholders it has. */
  count: number;
}

const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;

export function toPositional(sql: string): Positional {
  let out = '';
  let count = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql.charAt(i);
    const next = sql.charAt(i + 1);
    let end: number;
    if (c === '?') {
      count += 1;
      out += `$${count}`;
      i += 1;
      continue;
    } else if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1] ?? '') && !/\w/.test(sql[i - 2] ?? '');
      end = skipQuoted(sql, i, "'", escapes);
    } else if (c === '"') {
      end = skipQuoted(sql, i, '"', false);
    } else if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      end = nl === -1 ? sql.length : nl + 1;
    } else if (c === '/' && next === '*') {
      end = skipBlockComment(sql, i);
    } else if (c === '$' && !/\w/.test(sql[i - 1] ?? '')) {
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 64))?.[0];
      if (tag === undefined) {
        out += c;
        i += 1;
        continue;
      }
      const close = sql.indexOf(tag, i + tag.length);
      end = close === -1 ? sql.length : close + tag.length;
    } else {
      out += c;
      i += 1;
      continue;
    }
    out += sql.slice(i, end);
    i = end;
  }
  return { text: out, count };
}

/** Index just past the closing quote (a doubled quote is an escaped quote). */
function skipQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

/** Index just past the end of a (possibly nested) block comment. */
function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth += 1;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return sql.length;
}
