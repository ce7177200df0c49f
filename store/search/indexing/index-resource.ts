import type { SqlValue, Tx } from '../../engines/engine.js';
import { loadContext, type SearchContext } from '../context.js';
import { PATIENT_COMPARTMENT } from '../definitions/patient-compartment.js';
import { INDEX_TABLES } from '../schema.js';
import type { Extracted } from './compile-expression.js';
import { emptyRows, type IndexRows } from './rows.js';
import { addRows } from './to-rows.js';

/** Parameters answered from the `resource` table itself, never indexed. */
export const RESOURCE_COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);

export interface ResourceLike {
  resourceType: string;
  id?: string;
  [key: string]: unknown;
}

export interface Extraction {
  rows: IndexRows;
  /** Ids of the patients whose compartment the resource is in. */
  patients: string[];
}

function evaluate(fn: (input: unknown) => Extracted[], input: unknown): Extracted[] {
  try {
    return fn(input);
  } catch {
    return []; // an expression that cannot evaluate on this instance selects nothing
  }
}

/** Every index row of `resource` under the context's parameters, and its Patient compartments. */
export function extractRows(ctx: SearchContext, resource: ResourceLike): Extraction {
  const rows = emptyRows();
  let grp = 0;
  for (const param of ctx.registry.list(resource.resourceType)) {
    if (RESOURCE_COLUMN_PARAMS.has(param.code)) continue;
    const fn = ctx.extractor(param);
    if (fn === null) continue;
    if (param.type !== 'composite') {
      addRows(rows, param.type, param.key, null, evaluate(fn, resource));
      continue;
    }
    for (const root of evaluate(fn, resource)) {
      grp++;
      param.components.forEach((c, i) => {
        const cfn = ctx.componentExtractor(param, i);
        if (cfn !== null)
          addRows(rows, c.param.type, `${param.key}#${i}`, grp, evaluate(cfn, root.node));
      });
    }
  }
  const patients = new Set<string>();
  if (resource.resourceType === 'Patient' && resource.id !== undefined) patients.add(resource.id);
  const params = PATIENT_COMPARTMENT.get(resource.resourceType) ?? [];
  const keys = new Set(params.map((p) => `${resource.resourceType}.${p}`));
  for (const r of rows.reference) {
    if (keys.has(r.sp) && r.ttype === 'Patient' && r.tid !== null) patients.add(r.tid);
  }
  return { rows, patients: [...patients] };
}

type ColType = 'text' | 'int' | 'real';
const PG_CAST: Record<ColType, string> = { text: 'text', int: 'bigint', real: 'double precision' };
const insertSql = new Map<string, string>();

/**
 * The rows of one table, with statement texts that never change (they stay prepared).
 *
 * PostgreSQL: one INSERT per table whatever the row count, the rows travelling as one JSON array
 * parameter (`jsonb_array_elements`): one round trip per table.
 *
 * SQLite: one single-row `INSERT … VALUES` per row. A statement that may write several rows
 * (`INSERT … SELECT`, multi-row VALUES) opens a statement journal; inside the savepoint each group
 * committed transaction runs in, SQLite keeps that journal in memory and walks it from its start on
 * every statement release, so each such insert cost time proportional to everything the transaction
 * had written before it — quadratic in a transaction Bundle (2 ms per insert late in a
 * 200-resource Bundle, half the CPU of ingest). A single-row insert needs no statement journal.
 */
async function insertMany(
  tx: Tx,
  table: string,
  columns: readonly (readonly [string, ColType])[],
  rid: number,
  rows: SqlValue[][],
): Promise<void> {
  if (rows.length === 0) return;
  const key = `${tx.dialect}:${table}`;
  let sql = insertSql.get(key);
  if (sql === undefined) {
    const names = ['rid', ...columns.map(([c]) => c)].join(', ');
    sql =
      tx.dialect === 'postgres'
        ? `INSERT INTO ${table} (${names}) SELECT ?::bigint, ${columns.map(([, t], i) => `(x->>${i})::${PG_CAST[t]}`).join(', ')} FROM jsonb_array_elements(?::jsonb) AS x`
        : `INSERT INTO ${table} (${names}) VALUES (?, ${columns.map(() => '?').join(', ')})`;
    insertSql.set(key, sql);
  }
  if (tx.dialect === 'postgres') {
    await tx.run(sql, [rid, JSON.stringify(rows)]);
    return;
  }
  for (const row of rows) await tx.run(sql, [rid, ...row]);
}

export async function writeRows(tx: Tx, rid: number, x: Extraction): Promise<void> {
  const r = x.rows;
  const k = [
    ['sp', 'text'],
    ['grp', 'int'],
  ] as const;
  await insertMany(
    tx,
    'sp_string',
    [...k, ['norm', 'text'], ['exact', 'text']],
    rid,
    r.string.map((v) => [v.sp, v.grp, v.norm, v.exact]),
  );
  await insertMany(
    tx,
    'sp_token',
    [...k, ['system', 'text'], ['code', 'text'], ['text', 'text']],
    rid,
    r.token.map((v) => [v.sp, v.grp, v.system, v.code, v.text]),
  );
  await insertMany(
    tx,
    'sp_date',
    [...k, ['lo', 'int'], ['hi', 'int']],
    rid,
    r.date.map((v) => [v.sp, v.grp, v.lo, v.hi]),
  );
  await insertMany(
    tx,
    'sp_ref',
    [...k, ['ttype', 'text'], ['tid', 'text'], ['url', 'text'], ['isys', 'text'], ['ival', 'text']],
    rid,
    r.reference.map((v) => [v.sp, v.grp, v.ttype, v.tid, v.url, v.isys, v.ival]),
  );
  await insertMany(
    tx,
    'sp_quantity',
    [
      ...k,
      ['lo', 'real'],
      ['hi', 'real'],
      ['system', 'text'],
      ['code', 'text'],
      ['unit', 'text'],
      ['clo', 'real'],
      ['chi', 'real'],
      ['cunit', 'text'],
    ],
    rid,
    r.quantity.map((v) => [
      v.sp,
      v.grp,
      v.lo,
      v.hi,
      v.system,
      v.code,
      v.unit,
      v.clo,
      v.chi,
      v.cunit,
    ]),
  );
  await insertMany(
    tx,
    'sp_number',
    [...k, ['lo', 'real'], ['hi', 'real']],
    rid,
    r.number.map((v) => [v.sp, v.grp, v.lo, v.hi]),
  );
  await insertMany(
    tx,
    'sp_uri',
    [...k, ['uri', 'text']],
    rid,
    r.uri.map((v) => [v.sp, v.grp, v.uri]),
  );
  await insertMany(
    tx,
    'compartment',
    [
      ['ctype', 'text'],
      ['cid', 'text'],
    ],
    rid,
    x.patients.map((p) => ['Patient', p]),
  );
}

/** Removes every index row of `rid` (call on delete; indexResource calls it before writing). */
export async function unindexResource(tx: Tx, rid: number): Promise<void> {
  // one probe, then deletes only where there are rows (a create deletes nothing)
  const probe = INDEX_TABLES.map(
    (t, i) => `(SELECT COUNT(*) FROM (SELECT 1 FROM ${t} WHERE rid = ? LIMIT 1) p${i}) AS t${i}`,
  ).join(', ');
  const row = await tx.get<Record<string, number | string>>(
    `SELECT ${probe}`,
    INDEX_TABLES.map(() => rid),
  );
  for (const [i, table] of INDEX_TABLES.entries()) {
    if (Number(row?.[`t${i}`] ?? 1) > 0) await tx.run(`DELETE FROM ${table} WHERE rid = ?`, [rid]);
  }
}

/**
 * Replaces the index rows of `rid` with those of `resource`. Call inside the write transaction
 * that stores the resource, after the `resource` row exists.
 */
export async function indexResource(tx: Tx, rid: number, resource: ResourceLike): Promise<void> {
  const ctx = await loadContext(tx);
  const extraction = extractRows(ctx, resource);
  await unindexResource(tx, rid);
  await writeRows(tx, rid, extraction);
}
