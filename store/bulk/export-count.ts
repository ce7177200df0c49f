import type { Queryable, SqlValue } from '../engines/engine.js';

/**
 * How many live resources of `types` an export would read (before `_typeFilter` and scope
 * filters): the total of `hearth export`'s progress bar.
 */
export async function exportCount(
  db: Queryable,
  types: readonly string[],
  since?: number,
  until?: number,
): Promise<number> {
  if (types.length === 0) return 0;
  let sql = `SELECT count(*) AS n FROM resource WHERE deleted = 0 AND type IN (${types
    .map(() => '?')
    .join(', ')})`;
  const params: SqlValue[] = [...types];
  if (since !== undefined) {
    sql += ' AND last_updated > ?';
    params.push(since);
  }
  if (until !== undefined) {
    sql += ' AND last_updated <= ?';
    params.push(until);
  }
  const rows = await db.all<{ n: number | string }>(sql, params);
  return Number(rows[0]?.n ?? 0);
}
