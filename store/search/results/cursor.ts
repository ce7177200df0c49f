import type { SqlValue } from '../../engines/engine.js';
import { badRequest } from '../../fhir/outcome.js';

/**
 * Opaque paging cursors: keyset positions (the sort-key values of the row a page starts after or
 * ends before) plus `m`, the highest row id when the first page was served. Paging guarantee
 * under concurrent writes: a resource that matched when the first page was served, still
 * matches, and whose sort keys did not change appears exactly once across the pages; resources
 * created after the first page never appear; deleted ones disappear.
 */
export interface Cursor {
  /** n: rows after `k`; p: rows before `k`; l: the last page. */
  d: 'n' | 'p' | 'l';
  k: SqlValue[];
  m: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

export function decodeCursor(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      (c.d === 'n' || c.d === 'p' || c.d === 'l') &&
      Array.isArray(c.k) &&
      typeof c.m === 'number'
    ) {
      const k = c.k.map((v: unknown) =>
        typeof v === 'string' || typeof v === 'number' || v === null ? v : null,
      );
      return { d: c.d, k, m: c.m };
    }
  } catch {
    // fall through
  }
  throw badRequest('_cursor is not a cursor this server issued', ['_cursor']);
}
