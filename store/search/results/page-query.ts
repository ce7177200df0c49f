import type { Queryable, SqlValue } from '../../engines/engine.js';
import type { SqlBuilder } from '../sql/builder.js';
import { orderBy, type SortKey } from '../sql/order.js';
import type { Row } from './includes.js';

/** A page row: the resource, its sort-key values `k0…kn`, and `m` (the highest row id) when asked. */
export type PageRow = Row & Record<string, SqlValue>;

export const MAX_RID = '(SELECT MAX(rid) FROM resource)';

export interface PageQuery {
  keys: readonly SortKey[];
  /** The WHERE on `resource r`, every bound included (its placeholders follow the keys'). */
  where: string;
  /** The keyset condition on the key columns `k0…kn` (placeholders after the WHERE's). */
  after: string;
  reverse: boolean;
  limit: number;
  /** Select `m`, the highest row id, in the same statement (the first page's snapshot). */
  withMax: boolean;
  /** What the page's rows come from (default `resource r`); its placeholders precede the WHERE's. */
  from?: string;
}

/**
 * Reads one page of matches: the page is chosen on row ids and sort keys alone, and only its rows'
 * JSON is read (a sort never carries the JSON of every match).
 */
export function readPage(
  q: Queryable,
  b: SqlBuilder,
  o: PageQuery,
  deadline: number,
): Promise<PageRow[]> {
  const keyCols = o.keys.map((k, i) => `${k.expr} AS k${i}`).join(', ');
  const inner = `SELECT r.rid, ${keyCols} FROM ${o.from ?? 'resource r'} WHERE ${o.where}`;
  const page = `SELECT * FROM (${inner}) s WHERE ${o.after} ORDER BY ${orderBy(o.keys, o.reverse)} LIMIT ${b.p(o.limit)}`;
  const pageKeys = o.keys.map((_, i) => `p.k${i}`).join(', ');
  const sql = `SELECT r.rid, r.type, r.id, r.version, r.json, ${o.withMax ? MAX_RID : 'NULL'} AS m, ${pageKeys} FROM (${page}) p JOIN resource r ON r.rid = p.rid ORDER BY ${orderBy(o.keys, o.reverse, 'p.')}`;
  return q.all<PageRow>(sql, b.params, { deadline, planEach: true });
}
