import { dialectOf } from '../engines/dialect.js';
import type { DialectName } from '../engines/engine.js';

/**
 * The search index: one table per parameter type, keyed by the resource's `rid` and the
 * parameter key (`Observation.code`; composite components
 * `Observation.component-code-value-quantity#0` with `grp` tying the components of one tuple
 * together), the Patient compartment, and the search generation (custom parameters active since
 * the last reindex). Parameters whose rows would repeat others' write none (unions, composites on
 * the resource itself, references to one type of another's: see definitions/registry.ts).
 */
export function searchSchema(dialect: DialectName): string[] {
  const d = dialectOf(dialect);
  const { int, real } = d.types;
  // Byte-wise text on PostgreSQL too: the range predicates (prefix = [v, v + U+FFFF)) and sort order
  // then match SQLite's BINARY collation whatever the database's locale.
  const TEXT = d.types.bytewiseText;
  const key = `rid ${int} NOT NULL, sp ${TEXT} NOT NULL, grp INTEGER`;
  const trigram = d.containsIndex('sp_string_trgm', 'sp_string', 'norm');
  return [
    `CREATE TABLE IF NOT EXISTS sp_string (${key}, norm ${TEXT} NOT NULL, exact ${TEXT} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS sp_token (${key}, system ${TEXT}, code ${TEXT}, text ${TEXT})`,
    `CREATE TABLE IF NOT EXISTS sp_date (${key}, lo ${int} NOT NULL, hi ${int} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS sp_ref (${key}, ttype ${TEXT}, tid ${TEXT}, url ${TEXT}, isys ${TEXT}, ival ${TEXT})`,
    `CREATE TABLE IF NOT EXISTS sp_quantity (${key}, lo ${real} NOT NULL, hi ${real} NOT NULL, system ${TEXT}, code ${TEXT}, unit ${TEXT}, clo ${real}, chi ${real}, cunit ${TEXT})`,
    `CREATE TABLE IF NOT EXISTS sp_number (${key}, lo ${real} NOT NULL, hi ${real} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS sp_uri (${key}, uri ${TEXT} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS compartment (rid ${int} NOT NULL, ctype ${TEXT} NOT NULL, cid ${TEXT} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS search_meta (key ${TEXT} PRIMARY KEY, value ${TEXT} NOT NULL)`,
    'CREATE INDEX IF NOT EXISTS sp_string_v ON sp_string (sp, norm, rid)',
    'CREATE INDEX IF NOT EXISTS sp_string_rid ON sp_string (rid)',
    'CREATE INDEX IF NOT EXISTS sp_token_code ON sp_token (sp, code, system, rid)',
    'CREATE INDEX IF NOT EXISTS sp_token_sys ON sp_token (sp, system, code, rid)',
    'CREATE INDEX IF NOT EXISTS sp_token_rid ON sp_token (rid, sp)',
    // Partial indexes over the rows that can match (`text >= ?`, `url = ?` imply NOT NULL, so both
    // engines use them): most token rows (a composite's components) have no text, most references
    // no absolute url, and every index entry is written with each resource.
    'DROP INDEX IF EXISTS sp_token_text',
    'CREATE INDEX IF NOT EXISTS sp_token_text_p ON sp_token (sp, text, rid) WHERE text IS NOT NULL',
    'CREATE INDEX IF NOT EXISTS sp_date_lo ON sp_date (sp, lo, hi, rid)',
    'CREATE INDEX IF NOT EXISTS sp_date_hi ON sp_date (sp, hi, lo, rid)',
    'CREATE INDEX IF NOT EXISTS sp_date_rid ON sp_date (rid, sp)',
    'CREATE INDEX IF NOT EXISTS sp_ref_t ON sp_ref (sp, tid, ttype, rid)',
    'DROP INDEX IF EXISTS sp_ref_target',
    'CREATE INDEX IF NOT EXISTS sp_ref_rid ON sp_ref (rid, sp)',
    'DROP INDEX IF EXISTS sp_ref_url',
    'CREATE INDEX IF NOT EXISTS sp_ref_url_p ON sp_ref (sp, url) WHERE url IS NOT NULL',
    'CREATE INDEX IF NOT EXISTS sp_quantity_v ON sp_quantity (sp, lo, hi, rid)',
    'CREATE INDEX IF NOT EXISTS sp_quantity_c ON sp_quantity (sp, cunit, clo, rid)',
    'CREATE INDEX IF NOT EXISTS sp_quantity_rid ON sp_quantity (rid, sp)',
    'CREATE INDEX IF NOT EXISTS sp_number_v ON sp_number (sp, lo, rid)',
    'CREATE INDEX IF NOT EXISTS sp_number_rid ON sp_number (rid, sp)',
    'CREATE INDEX IF NOT EXISTS sp_uri_v ON sp_uri (sp, uri, rid)',
    'CREATE INDEX IF NOT EXISTS sp_uri_rid ON sp_uri (rid, sp)',
    // The live rows of a type in row id order: a search in the default order walks them from the
    // cursor when its clauses match many rows (results/walk-page.ts).
    'CREATE INDEX IF NOT EXISTS resource_type_rid ON resource (type, rid) WHERE deleted = 0',
    'CREATE INDEX IF NOT EXISTS compartment_c ON compartment (ctype, cid, rid)',
    'CREATE INDEX IF NOT EXISTS compartment_rid ON compartment (rid)',
    ...(trigram === undefined ? [] : [trigram]),
    ...(dialect === 'postgres' ? POSTGRES_STATISTICS : []),
  ];
}

/**
 * PostgreSQL multi-column statistics: `sp`, `system` and `code` (or `ttype` and `tid`) are far from
 * independent, and multiplying their single-column selectivities estimated 13 rows for every
 * laboratory Observation (3,462 of 8,244), so a patient-scoped lab search was driven by all labs
 * instead of the patient's compartment (21 ms, 1 ms with these).
 */
const POSTGRES_STATISTICS = [
  'CREATE STATISTICS IF NOT EXISTS sp_token_stx (ndistinct, dependencies, mcv) ON sp, system, code FROM sp_token',
  'CREATE STATISTICS IF NOT EXISTS sp_ref_stx (ndistinct, dependencies, mcv) ON sp, ttype, tid FROM sp_ref',
  'CREATE STATISTICS IF NOT EXISTS sp_string_stx (ndistinct, dependencies, mcv) ON sp, norm FROM sp_string',
];

export const INDEX_TABLES = [
  'sp_string',
  'sp_token',
  'sp_date',
  'sp_ref',
  'sp_quantity',
  'sp_number',
  'sp_uri',
  'compartment',
] as const;
