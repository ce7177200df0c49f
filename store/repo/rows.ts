import type { Tx } from '../engines/engine.js';
import type { InlineIndex } from './indexer.js';

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

/** A new current version of a resource: what `writeVersion` stores. */
export interface NewVersion {
  type: string;
  id: string;
  version: number;
  lastUpdated: number;
  method: 'POST' | 'PUT' | 'PATCH';
  json: string;
}

const HISTORY_FROM_ROW =
  'INSERT INTO history (rid, type, id, version, last_updated, method, json) SELECT rid, type, id, version, last_updated, ?, json FROM r RETURNING rid';

/**
 * Stores a new current version: inserts the `resource` row (`rid` undefined) or updates row `rid`,
 * and appends the version to `history`. Returns the rid. PostgreSQL does both in one statement (a
 * data-modifying CTE: one round trip per write), with `inline` (an insert's index rows) in it too.
 */
export async function writeVersion(
  tx: Tx,
  rid: number | undefined,
  v: NewVersion,
  inline?: InlineIndex,
): Promise<number> {
  if (tx.dialect === 'postgres') {
    const ctes = inline === undefined ? '' : `, ${inline.ctes.join(', ')}`;
    const r =
      rid === undefined
        ? await tx.get<{ rid: number | string }>(
            `WITH r AS (INSERT INTO resource (type, id, version, last_updated, deleted, json) VALUES (?, ?, ?, ?, 0, ?) RETURNING rid, type, id, version, last_updated, json)${ctes} ${HISTORY_FROM_ROW}`,
            [v.type, v.id, v.version, v.lastUpdated, v.json, ...(inline?.params ?? []), v.method],
          )
        : await tx.get<{ rid: number | string }>(
            `WITH r AS (UPDATE resource SET version = ?, last_updated = ?, deleted = 0, json = ? WHERE rid = ? RETURNING rid, type, id, version, last_updated, json) ${HISTORY_FROM_ROW}`,
            [v.version, v.lastUpdated, v.json, rid, v.method],
          );
    if (r === undefined) throw new Error(`writing ${v.type}/${v.id} returned no row`);
    return Number(r.rid);
  }
  let written = rid;
  if (written === undefined) {
    written = await insertResourceRow(tx, v.type, v.id, v.version, v.lastUpdated, v.json);
  } else {
    await tx.run(
      'UPDATE resource SET version = ?, last_updated = ?, deleted = 0, json = ? WHERE rid = ?',
      [v.version, v.lastUpdated, v.json, written],
    );
  }
  await tx.run(
    'INSERT INTO history (rid, type, id, version, last_updated, method, json) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [written, v.type, v.id, v.version, v.lastUpdated, v.method, v.json],
  );
  return written;
}
