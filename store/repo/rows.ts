import type { Tx } from '../engines/engine.js';

/** Rows of the store's tables, as queries return them. */

export interface ResourceRow {
  rid: number;
  type: string;
  id: string;
  version: number;
  last_updated: number;
  deleted: number;
  json: string;
}

export interface HistoryRow {
  hid: number;
  rid: number;
  type: string;
  id: string;
  version: number;
  last_updated: number;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** NULL for a delete. */
  json: string | null;
}

export const RESOURCE_COLUMNS = 'rid, type, id, version, last_updated, deleted, json';
export const HISTORY_COLUMNS = 'hid, rid, type, id, version, last_updated, method, json';

/**
 * Inserts a new `resource` row and returns its rid. PostgreSQL: `INSERT … RETURNING`. SQLite: a
 * plain INSERT and its rowid — SQLite runs `RETURNING` as a statement that may write several rows,
 * which opens a statement journal; inside the savepoint of a group-committed transaction that
 * journal is walked from its start on every statement release, so such a statement costs time in
 * proportion to what the transaction wrote before it (quadratic in a transaction Bundle).
 */
export async function insertResourceRow(
  tx: Tx,
  type: string,
  id: string,
  version: number,
  lastUpdated: number,
  json: string,
): Promise<number> {
  const params = [type, id, version, lastUpdated, json];
  const insert =
    'INSERT INTO resource (type, id, version, last_updated, deleted, json) VALUES (?, ?, ?, ?, 0, ?)';
  if (tx.dialect === 'sqlite') return (await tx.run(insert, params)).lastInsertRowid;
  const r = await tx.get<{ rid: number | string }>(`${insert} RETURNING rid`, params);
  if (r === undefined) throw new Error('INSERT … RETURNING returned no row');
  return Number(r.rid);
}
