import type { SqlValue, StatementBatch, Tx } from '../engines/engine.js';
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

/** A resource to insert with a new rid, with its index rows (PostgreSQL: `insertsWithIndex`). */
export interface NewResource extends NewVersion {
  inline: InlineIndex;
}

/** The statement text of `insertsWithIndex` by its index CTEs (the same array every time). */
const insertSql = new WeakMap<readonly string[], string>();

/**
 * PostgreSQL: new resources, their first history versions and their index rows, in one statement.
 * The resources travel as arrays (one per column, `unnest … WITH ORDINALITY` numbers them from 1),
 * each gets its rid from the `resource` sequence, and the index CTEs read it from `k.rids` by that
 * number (see InlineIndex). A transaction Bundle's entries share such statements (`Tx.enlist`):
 * one per entry was one round trip and one statement start each, and the store thread and
 * PostgreSQL waited on each other in turn.
 */
export const insertsWithIndex: StatementBatch<NewResource> = {
  max: 200,
  statement(items) {
    const [first] = items;
    if (first === undefined) throw new Error('a batch of no resources');
    const ctes = first.inline.ctes;
    let sql = insertSql.get(ctes);
    if (sql === undefined) {
      sql =
        "WITH v AS (SELECT nextval('resource_rid_seq') AS rid, t.* FROM unnest(?::text[], ?::text[], ?::int[], ?::bigint[], ?::text[], ?::text[]) WITH ORDINALITY AS t (type, id, version, last_updated, method, json, n)), " +
        'r AS (INSERT INTO resource (rid, type, id, version, last_updated, deleted, json) SELECT rid, type, id, version, last_updated, 0, json FROM v), ' +
        'h AS (INSERT INTO history (rid, type, id, version, last_updated, method, json) SELECT rid, type, id, version, last_updated, method, json FROM v), ' +
        `k AS (SELECT array_agg(rid ORDER BY n) AS rids FROM v)${ctes.map((c) => `, ${c}`).join('')} SELECT 1`;
      insertSql.set(ctes, sql);
    }
    const params: SqlValue[] = [
      items.map((r) => r.type),
      items.map((r) => r.id),
      items.map((r) => r.version),
      items.map((r) => r.lastUpdated),
      items.map((r) => r.method),
      items.map((r) => r.json),
    ];
    for (let t = 0; t < ctes.length; t++) {
      const rows: (readonly SqlValue[])[] = [];
      items.forEach((r, i) => {
        if (r.inline.ctes !== ctes) throw new Error('resources of one batch index differently');
        for (const row of r.inline.tables[t] ?? []) rows.push([i + 1, ...row]);
      });
      params.push(JSON.stringify(rows));
    }
    return { sql, params };
  },
};

/**
 * Stores a new current version: inserts the `resource` row (`rid` undefined) or updates row `rid`,
 * and appends the version to `history`. Returns the rid. PostgreSQL does both in one statement (a
 * data-modifying CTE: one round trip per write).
 */
export async function writeVersion(
  tx: Tx,
  rid: number | undefined,
  v: NewVersion,
): Promise<number> {
  if (tx.dialect === 'postgres') {
    const r =
      rid === undefined
        ? await tx.get<{ rid: number | string }>(
            `WITH r AS (INSERT INTO resource (type, id, version, last_updated, deleted, json) VALUES (?, ?, ?, ?, 0, ?) RETURNING rid, type, id, version, last_updated, json) ${HISTORY_FROM_ROW}`,
            [v.type, v.id, v.version, v.lastUpdated, v.json, v.method],
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
