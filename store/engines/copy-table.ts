import type { Engine, SqlValue } from './engine.js';

export interface CopyTableOptions {
  table: string;
  /** A unique, ordered column (the surrogate key): rows are copied in its order, in batches. */
  key: string;
  /** Columns to copy (the key included). */
  columns: readonly string[];
  /** Rows per batch, each batch one transaction on the target (default 500). */
  batchSize?: number;
  /** Called after each batch with the number of rows it copied (progress bars). */
  onBatch?: (rows: number) => void;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a plain SQL identifier: ${name}`);
  return name;
}

function sqlValue(v: unknown, where: string): SqlValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') {
    return v;
  }
  if (v instanceof Uint8Array) return v;
  throw new Error(`cannot copy a ${typeof v} value (${where})`);
}

/**
 * Streams one table from `from` to `to` (any engines, either direction) in key order, keeping the
 * key values, so rows that point at each other by key stay linked. Resumable: it starts after the
 * largest key already in the target, so running it again after a failure copies only the rest.
 * On PostgreSQL it then moves the key's identity/serial sequence past the copied keys, so later
 * inserts do not collide. Returns the number of rows copied.
 */
export async function copyTable(from: Engine, to: Engine, opts: CopyTableOptions): Promise<number> {
  const table = ident(opts.table);
  const key = ident(opts.key);
  const columns = opts.columns.map(ident);
  const keyIndex = columns.indexOf(key);
  if (keyIndex === -1) throw new Error(`the columns of ${table} must include its key ${key}`);
  const batch = opts.batchSize ?? 500;
  const list = columns.join(', ');
  const select = (after: boolean) =>
    `SELECT ${list} FROM ${table} ${after ? `WHERE ${key} > ?` : ''} ORDER BY ${key} LIMIT ?`;
  const tuple = `(${columns.map(() => '?').join(', ')})`;

  const top = await to.get<{ m: SqlValue }>(`SELECT max(${key}) AS m FROM ${table}`);
  let last: SqlValue = top?.m ?? null;
  let copied = 0;
  for (;;) {
    const rows = await from.all<Record<string, unknown>>(
      select(last !== null),
      last === null ? [batch] : [last, batch],
    );
    if (rows.length === 0) break;
    const params = rows.flatMap((row) => columns.map((c) => sqlValue(row[c], `${table}.${c}`)));
    await to.transaction((tx) =>
      tx.run(`INSERT INTO ${table} (${list}) VALUES ${rows.map(() => tuple).join(', ')}`, params),
    );
    last = sqlValue(rows[rows.length - 1]?.[key], `${table}.${key}`);
    copied += rows.length;
    opts.onBatch?.(rows.length);
    if (rows.length < batch) break;
  }
  if (to.dialect === 'postgres') {
    await to.get(
      `SELECT setval(s, m) FROM (SELECT pg_get_serial_sequence(?, ?) AS s, max(${key}) AS m FROM ${table}) x
        WHERE s IS NOT NULL AND m IS NOT NULL`,
      [table, key],
    );
  }
  return copied;
}
