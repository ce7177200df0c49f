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

const CHUNK = 200;

async function insertMany(
  tx: Tx,
  table: string,
  columns: string[],
  values: SqlValue[][],
): Promise<void> {
  const row = `(${columns.map(() => '?').join(',')})`;
  for (let i = 0; i < values.length; i += CHUNK) {
    const chunk = values.slice(i, i + CHUNK);
    await tx.run(
      `INSERT INTO ${table} (${columns.join(',')}) VALUES ${chunk.map(() => row).join(',')}`,
      chunk.flat(),
    );
  }
}

export async function writeRows(tx: Tx, rid: number, x: Extraction): Promise<void> {
  const r = x.rows;
  const k = ['rid', 'sp', 'grp'];
  await insertMany(
    tx,
    'sp_string',
    [...k, 'norm', 'exact'],
    r.string.map((v) => [rid, v.sp, v.grp, v.norm, v.exact]),
  );
  await insertMany(
    tx,
    'sp_token',
    [...k, 'system', 'code', 'text'],
    r.token.map((v) => [rid, v.sp, v.grp, v.system, v.code, v.text]),
  );
  await insertMany(
    tx,
    'sp_date',
    [...k, 'lo', 'hi'],
    r.date.map((v) => [rid, v.sp, v.grp, v.lo, v.hi]),
  );
  await insertMany(
    tx,
    'sp_ref',
    [...k, 'ttype', 'tid', 'url', 'isys', 'ival'],
    r.reference.map((v) => [rid, v.sp, v.grp, v.ttype, v.tid, v.url, v.isys, v.ival]),
  );
  await insertMany(
    tx,
    'sp_quantity',
    [...k, 'lo', 'hi', 'system', 'code', 'unit', 'clo', 'chi', 'cunit'],
    r.quantity.map((v) => [
      rid,
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
    [...k, 'lo', 'hi'],
    r.number.map((v) => [rid, v.sp, v.grp, v.lo, v.hi]),
  );
  await insertMany(
    tx,
    'sp_uri',
    [...k, 'uri'],
    r.uri.map((v) => [rid, v.sp, v.grp, v.uri]),
  );
  await insertMany(
    tx,
    'compartment',
    ['rid', 'ctype', 'cid'],
    x.patients.map((p) => [rid, 'Patient', p]),
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
