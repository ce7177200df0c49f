import type { SqlValue, Tx } from '../../engines/engine.js';
import type { InlineIndex } from '../../repo/indexer.js';
import { loadContext, type SearchContext } from '../context.js';
import { PATIENT_COMPARTMENT } from '../definitions/patient-compartment.js';
import type { SearchRegistry } from '../definitions/registry.js';
import type { SearchParam } from '../definitions/search-param.js';
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

const TABLES = ['string', 'token', 'date', 'reference', 'quantity', 'number', 'uri'] as const;
type Table = (typeof TABLES)[number];

const total = (rows: IndexRows): number => TABLES.reduce((n, t) => n + rows[t].length, 0);

/** Writes the length of each table's rows into `into`. */
function lengthsInto(rows: IndexRows, into: number[]): void {
  for (let i = 0; i < TABLES.length; i++) into[i] = rows[TABLES[i] as Table].length;
}

/** `key#0`, `key#1`… of a composite's components, made once per parameter. */
const componentKeys = new WeakMap<SearchParam, string[]>();
function keysOf(param: SearchParam): string[] {
  let keys = componentKeys.get(param);
  if (keys === undefined) {
    keys = param.components.map((_, i) => `${param.key}#${i}`);
    componentKeys.set(param, keys);
  }
  return keys;
}

/**
 * Adds the rows of a composite's tuples (`grp` numbers them; returns the last number used).
 *
 * Only complete tuples (every component has rows) are kept: a composite search matches a tuple
 * through every one of its components (the rows of one `grp`), so a tuple with a component
 * without rows never matches; in the sample data 150,000 of 565,000 index rows were such tuples'
 * first components (an Observation's code under `code-value-date`, `code-value-string`… when its
 * value is of another type). A composite's value in a resource is a tuple, so `:missing=false`
 * finds the resources with a complete one (their first component's rows).
 */
function addTuples(
  rows: IndexRows,
  param: SearchParam,
  tuples: Extracted[][][],
  grp: number,
): number {
  const keys = keysOf(param);
  const before: number[] = [];
  for (const tuple of tuples) {
    grp++;
    lengthsInto(rows, before);
    let whole = true;
    for (let i = 0; i < param.components.length && whole; i++) {
      const c = param.components[i];
      if (c === undefined) continue;
      const n = total(rows);
      addRows(rows, c.param.type, keys[i] ?? `${param.key}#${i}`, grp, tuple[i] ?? []);
      if (total(rows) === n) whole = false;
    }
    if (whole) continue;
    for (let i = 0; i < TABLES.length; i++) rows[TABLES[i] as Table].length = before[i] ?? 0;
  }
  return grp;
}

/** Per registry and type: the row keys of the type's Patient compartment parameters. */
const compartmentKeyCache = new WeakMap<SearchRegistry, Map<string, ReadonlySet<string>>>();

/**
 * The keys of the rows that put a resource of `type` in a Patient compartment: its compartment
 * parameters' keys, where a parameter without rows of its own (`patient`) stands for its source's
 * (rowsOf; its rows to Patient are the ones that count). Made once per registry and type.
 */
function compartmentKeys(registry: SearchRegistry, type: string): ReadonlySet<string> {
  let byType = compartmentKeyCache.get(registry);
  if (byType === undefined)
    compartmentKeyCache.set(registry, (byType = new Map<string, ReadonlySet<string>>()));
  let keys = byType.get(type);
  if (keys === undefined) {
    keys = new Set(
      (PATIENT_COMPARTMENT.get(type) ?? []).map(
        (p) => registry.get(type, p)?.rowsOf?.param.key ?? `${type}.${p}`,
      ),
    );
    byType.set(type, keys);
  }
  return keys;
}

/** Every index row of `resource` under the context's parameters, and its Patient compartments. */
export function extractRows(ctx: SearchContext, resource: ResourceLike): Extraction {
  const rows = emptyRows();
  let grp = 0;
  for (const param of ctx.registry.list(resource.resourceType)) {
    // a union's rows are its members', a root composite's its components' sources', a reference
    // subset's its source's (SearchRegistry)
    if (
      RESOURCE_COLUMN_PARAMS.has(param.code) ||
      param.union !== undefined ||
      param.componentRows !== undefined ||
      param.rowsOf !== undefined
    )
      continue;
    if (param.type !== 'composite') {
      const fn = ctx.extractor(param);
      if (fn !== null) addRows(rows, param.type, param.key, null, evaluate(fn, resource));
      continue;
    }
    grp = addTuples(rows, param, ctx.composite(param)?.(resource) ?? [], grp);
  }
  const patients = new Set<string>();
  if (resource.resourceType === 'Patient' && resource.id !== undefined) patients.add(resource.id);
  const keys = compartmentKeys(ctx.registry, resource.resourceType);
  for (const r of rows.reference) {
    if (keys.has(r.sp) && r.ttype === 'Patient' && r.tid !== null) patients.add(r.tid);
  }
  return { rows, patients: [...patients] };
}

type ColType = 'text' | 'int' | 'real';
const PG_CAST: Record<ColType, string> = { text: 'text', int: 'bigint', real: 'double precision' };

/** The rows one resource gives one index table. */
interface TableRows {
  table: (typeof INDEX_TABLES)[number];
  columns: readonly (readonly [string, ColType])[];
  rows: SqlValue[][];
}

const KEY = [
  ['sp', 'text'],
  ['grp', 'int'],
] as const;

function tableRows(x: Extraction): TableRows[] {
  const r = x.rows;
  return [
    {
      table: 'sp_string',
      columns: [...KEY, ['norm', 'text'], ['exact', 'text']],
      rows: r.string.map((v) => [v.sp, v.grp, v.norm, v.exact]),
    },
    {
      table: 'sp_token',
      columns: [...KEY, ['system', 'text'], ['code', 'text'], ['text', 'text']],
      rows: r.token.map((v) => [v.sp, v.grp, v.system, v.code, v.text]),
    },
    {
      table: 'sp_date',
      columns: [...KEY, ['lo', 'int'], ['hi', 'int']],
      rows: r.date.map((v) => [v.sp, v.grp, v.lo, v.hi]),
    },
    {
      table: 'sp_ref',
      columns: [
        ...KEY,
        ['ttype', 'text'],
        ['tid', 'text'],
        ['url', 'text'],
        ['isys', 'text'],
        ['ival', 'text'],
      ],
      rows: r.reference.map((v) => [v.sp, v.grp, v.ttype, v.tid, v.url, v.isys, v.ival]),
    },
    {
      table: 'sp_quantity',
      columns: [
        ...KEY,
        ['lo', 'real'],
        ['hi', 'real'],
        ['system', 'text'],
        ['code', 'text'],
        ['unit', 'text'],
        ['clo', 'real'],
        ['chi', 'real'],
        ['cunit', 'text'],
      ],
      rows: r.quantity.map((v) => [
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
    },
    {
      table: 'sp_number',
      columns: [...KEY, ['lo', 'real'], ['hi', 'real']],
      rows: r.number.map((v) => [v.sp, v.grp, v.lo, v.hi]),
    },
    {
      table: 'sp_uri',
      columns: [...KEY, ['uri', 'text']],
      rows: r.uri.map((v) => [v.sp, v.grp, v.uri]),
    },
    {
      table: 'compartment',
      columns: [
        ['ctype', 'text'],
        ['cid', 'text'],
      ],
      rows: x.patients.map((p) => ['Patient', p]),
    },
  ];
}

const sqliteInsert = new Map<string, string>();
const postgresInsert = new Map<string, string[]>();
let postgresStatement: string | undefined;

/** `INSERT … VALUES` of one row (SQLite), the rid last. */
function sqliteSql(t: TableRows): string {
  let sql = sqliteInsert.get(t.table);
  if (sql === undefined) {
    const names = [...t.columns.map(([c]) => c), 'rid'].join(', ');
    sql = `INSERT INTO ${t.table} (${names}) VALUES (${t.columns.map(() => '?, ').join('')}?)`;
    sqliteInsert.set(t.table, sql);
  }
  return sql;
}

/**
 * The CTEs filling every index table (PostgreSQL): each table's rows travel as one JSON array
 * parameter (`jsonb_array_elements`), so the text never changes (it stays prepared) and a
 * resource's index costs one statement whatever its row count. `param`: for one rid, a parameter
 * (`?::bigint`). `batch`: for the resources a statement inserts, each row prefixed with its
 * resource's number, whose rid is `k.rids[n]` (see InlineIndex).
 */
function postgresCtes(tables: readonly TableRows[], rid: 'param' | 'batch'): string[] {
  let ctes = postgresInsert.get(rid);
  if (ctes === undefined) {
    const shift = rid === 'batch' ? 1 : 0;
    const [first, from] = rid === 'batch' ? ['k.rids[(x->>0)::int]', 'k, '] : ['?::bigint', ''];
    ctes = tables.map((t, n) => {
      const names = ['rid', ...t.columns.map(([c]) => c)].join(', ');
      const values = t.columns
        .map(([, type], i) => `(x->>${i + shift})::${PG_CAST[type]}`)
        .join(', ');
      return `i${n} AS (INSERT INTO ${t.table} (${names}) SELECT ${first}, ${values} FROM ${from}jsonb_array_elements(?::jsonb) AS x)`;
    });
    postgresInsert.set(rid, ctes);
  }
  return ctes;
}

/** One statement filling every index table for `rid` (PostgreSQL). */
function postgresSql(tables: readonly TableRows[]): string {
  postgresStatement ??= `WITH ${postgresCtes(tables, 'param').join(', ')} SELECT 1`;
  return postgresStatement;
}

/**
 * Writes the index rows of `rid`, with statement texts that never change (they stay prepared).
 *
 * PostgreSQL: one statement for all tables (see `postgresSql`).
 *
 * SQLite: one single-row `INSERT … VALUES` per row. A statement that may write several rows
 * (`INSERT … SELECT`, multi-row VALUES) opens a statement journal; inside the savepoint each group
 * committed transaction runs in, SQLite keeps that journal in memory and walks it from its start on
 * every statement release, so each such insert cost time proportional to everything the transaction
 * had written before it — quadratic in a transaction Bundle (2 ms per insert late in a
 * 200-resource Bundle, half the CPU of ingest). A single-row insert needs no statement journal.
 * A table's rows run in one `runMany` (one synchronous loop, no promise per row). Also tried:
 * multi-row `INSERT OR FAIL` (no statement journal either), no less CPU than single rows.
 */
export async function writeRows(tx: Tx, rid: number, x: Extraction): Promise<void> {
  const tables = tableRows(x);
  if (tx.dialect === 'postgres') {
    if (tables.every((t) => t.rows.length === 0)) return;
    await tx.run(
      postgresSql(tables),
      tables.flatMap((t) => [rid, JSON.stringify(t.rows)]),
    );
    return;
  }
  for (const t of tables) {
    if (t.rows.length === 0) continue;
    for (const row of t.rows) row.push(rid); // the rows are this call's own
    await tx.runMany(sqliteSql(t), t.rows);
  }
}

/**
 * The index rows of `resource`, written by the statement that inserts it (PostgreSQL; see
 * `Indexer.inline`).
 */
export async function inlineIndex(tx: Tx, resource: ResourceLike): Promise<InlineIndex> {
  const ctx = await loadContext(tx);
  const tables = tableRows(extractRows(ctx, resource));
  return { ctes: postgresCtes(tables, 'batch'), tables: tables.map((t) => t.rows) };
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
 * that stores the resource, after the `resource` row exists. `fresh`: the row was just inserted
 * with a new rid, so there are no rows to delete (saves the probe, a round trip on PostgreSQL).
 */
export async function indexResource(
  tx: Tx,
  rid: number,
  resource: ResourceLike,
  fresh = false,
): Promise<void> {
  const ctx = await loadContext(tx);
  const extraction = extractRows(ctx, resource);
  if (!fresh) await unindexResource(tx, rid);
  await writeRows(tx, rid, extraction);
}
