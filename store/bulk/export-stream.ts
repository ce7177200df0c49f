import { allows } from '../access/constraint.js';
import type { Queryable, SqlValue } from '../engines/engine.js';
import { parseJson, stringifyJson, toPlain, type JsonObject } from '../fhir/json.js';
import { patientCompartments } from '../fhir/patient-compartment.js';
import type { ExportQuery } from './export-query.js';

/**
 * The bulk export stream: live resources of one type in rid order, read in bounded pages (memory
 * stays flat however large the type). Each output line is `<rid> <resource JSON>`; a line holding
 * only `<rid>` moves the caller's cursor past rows that matched nothing.
 */

const PAGE = 500;

interface Row {
  rid: number | string;
  json: string;
}

const SUBSETTED = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'SUBSETTED',
};

function plainOf(json: string): Record<string, unknown> {
  return toPlain(parseJson(json)) as Record<string, unknown>;
}

function inPatients(resource: Record<string, unknown>, patients: Set<string> | undefined) {
  const of = patientCompartments(resource);
  return patients === undefined ? of.length > 0 : of.some((p) => patients.has(p));
}

function passes(q: ExportQuery, json: string, patients: Set<string> | undefined): boolean {
  const needsParse =
    q.patients !== undefined || q.typeFilters !== undefined || q.scopeFilters !== undefined;
  if (!needsParse) return true;
  const resource = plainOf(json);
  if (q.patients !== undefined && !inPatients(resource, patients)) return false;
  for (const filters of [q.typeFilters, q.scopeFilters]) {
    if (filters === undefined) continue;
    if (!allows({ types: { [q.type]: { anyOf: filters } } }, resource)) return false;
  }
  return true;
}

/** `_elements`: keeps resourceType, id, meta and the listed elements, tagged SUBSETTED. */
function subset(json: string, elements: readonly string[]): string {
  const resource = parseJson(json) as JsonObject;
  const keep = new Set(['resourceType', 'id', 'meta', ...elements]);
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(resource)) if (keep.has(k)) out[k] = v;
  const meta = (out.meta ?? {}) as JsonObject;
  const tags = Array.isArray(meta.tag) ? meta.tag : [];
  out.meta = { ...meta, tag: [...tags, SUBSETTED] };
  return stringifyJson(out);
}

/** Yields output lines (without newline) for `q`, reading `db` one page at a time. */
export async function* exportLines(db: Queryable, q: ExportQuery): AsyncGenerator<string> {
  const patients =
    q.patients === undefined || q.patients.length === 0 ? undefined : new Set(q.patients);
  let after = q.afterRid;
  for (;;) {
    let sql = 'SELECT rid, json FROM resource WHERE type = ? AND deleted = 0 AND rid > ?';
    const params: SqlValue[] = [q.type, after];
    if (q.since !== undefined) {
      sql += ' AND last_updated > ?';
      params.push(q.since);
    }
    if (q.until !== undefined) {
      sql += ' AND last_updated <= ?';
      params.push(q.until);
    }
    sql += ` ORDER BY rid LIMIT ${PAGE}`;
    const rows = await db.all<Row>(sql, params);
    let emitted = after;
    for (const row of rows) {
      if (!passes(q, row.json, patients)) continue;
      const json = q.elements === undefined ? row.json : subset(row.json, q.elements);
      emitted = Number(row.rid);
      yield `${emitted} ${json}`;
    }
    const last = rows.at(-1);
    if (last === undefined) return;
    const lastRid = Number(last.rid);
    if (emitted < lastRid) yield String(lastRid);
    after = lastRid;
    if (rows.length < PAGE) return;
  }
}
