import type { Queryable } from '../../engines/engine.js';
import type { Clause, SearchRequest } from '../query/request.js';
import type { SearchInput, WalkTuning } from '../search-input.js';
import { SqlBuilder } from '../sql/builder.js';
import { clauseRowsSql, type ClauseEnv } from '../sql/clause-sql.js';
import type { SortKey } from '../sql/order.js';
import type { Cursor } from './cursor.js';
import { MAX_RID } from './page-query.js';

/**
 * A range test on a date, number or quantity costs one index probe per row walked; a `_has` costs
 * a walk through the row's referrers, so it gets a shorter walk. A clause listing fewer than
 * `narrow` rows costs less listed than a walk. On PostgreSQL, whose index probes cost several times
 * SQLite's, so does a `_has` listing fewer than `hasNarrow`: the walk tests each Patient through
 * all of its ~200 Observations when few have the code. At 600 patients,
 * `Patient?_has:Observation:patient:code=…` for a code on 882 Observations (325 Patients) took
 * 20.0 ms walked and 12.4 listed, for one on 829 (329 Patients) 14.6 and 11.7; codes on 2,530 and
 * more Observations stay walked (listing them took 21–29 ms against 4–9). On SQLite, listing the
 * first two was slower (13.4 and 12.6 ms against 9.5 and 6.5), so it keeps `narrow`.
 */
export const WALK_DEFAULTS: WalkTuning = {
  leafWindow: 1024,
  hasWindow: 64,
  narrow: 500,
  hasNarrow: 1500,
};

/** Clauses whose matches are usually many (a range of dates or values, a `_has`). */
function windowFor(clause: Clause, tuning: WalkTuning): number | undefined {
  if (clause.kind === 'has') return tuning.hasWindow;
  if (clause.kind !== 'param' || clause.param.code === '_id') return undefined;
  const t = clause.param.type;
  return t === 'date' || t === 'number' || t === 'quantity' ? tuning.leafWindow : undefined;
}

/**
 * When a type search in the default order (row id) may walk: every clause is one that usually
 * matches many rows, so the first page is found among the first rows of the type, while the usual
 * plan lists every match of each clause before choosing the page (a quarter of Observation dates:
 * every Observation after its start and every one before its end). Undefined: the usual plan.
 */
export function walkWindow(
  input: SearchInput,
  req: SearchRequest,
  keys: readonly SortKey[],
  env: ClauseEnv,
  tuning: WalkTuning | false,
): number | undefined {
  if (tuning === false) return undefined;
  const t = req.types[0];
  if (t === undefined || req.types.length !== 1 || input.types.length !== 1) return undefined;
  if (keys.length !== 1 || input.compartment !== undefined || input.everything !== undefined)
    return undefined;
  // confined to a patient's compartment: its few rows already drive the search
  if ((env.constraint?.types[t] ?? env.constraint?.types['*'])?.compartment !== undefined)
    return undefined;
  const clauses = req.clauses.get(t) ?? [];
  if (clauses.length === 0) return undefined;
  let window = Number.POSITIVE_INFINITY;
  for (const c of clauses) {
    const w = windowFor(c, tuning);
    if (w === undefined) return undefined;
    window = Math.min(window, w);
  }
  return window;
}

export interface Survey {
  /** The clause that lists the fewest rows, and whether it lists fewer than `narrow`. */
  driver: number;
  narrow: boolean;
  /** The walk's far end (the `window`-th live row of the type from the start); none: fewer rows. */
  edge: number | undefined;
  /** The highest row id this page and every later one is bounded by. */
  maxRid: number;
}

/**
 * One statement: each clause's rows counted up to its limit (`narrow`, or `hasNarrow` for a `_has`
 * on PostgreSQL; an index range each), the far end of the walk from the cursor, and the highest row
 * id (the first page's snapshot). The driver is the clause listing the fewest rows among those
 * under their limit, else the one listing the fewest.
 */
export async function survey(
  q: Queryable,
  o: {
    req: SearchRequest;
    env: ClauseEnv;
    cursor: Cursor | undefined;
    maxRid: number | undefined;
    reverse: boolean;
    window: number;
    tuning: WalkTuning;
    deadline: number;
  },
): Promise<Survey> {
  const b = new SqlBuilder();
  const type = o.req.types[0] ?? '';
  const counts: [number, string, number][] = [];
  for (const [i, clause] of (o.req.clauses.get(type) ?? []).entries()) {
    const rows = clauseRowsSql(b, clause, o.env);
    const limit =
      clause.kind === 'has' && q.dialect === 'postgres' ? o.tuning.hasNarrow : o.tuning.narrow;
    if (rows !== undefined)
      counts.push([
        i,
        `(SELECT COUNT(*) FROM (${rows} LIMIT ${b.p(limit)}) c${i}) AS n${i}`,
        limit,
      ]);
  }
  const from = o.cursor === undefined || o.cursor.d === 'l' ? undefined : o.cursor.k[0];
  // one bound on each side of the range (see walkRows)
  let range = ` AND w.type = ${b.p(type)}`;
  if (o.reverse) {
    const hi = typeof from === 'number' ? Math.min(from - 1, o.maxRid ?? from) : o.maxRid;
    if (hi !== undefined) range += ` AND w.rid <= ${b.p(hi)}`;
  } else {
    if (typeof from === 'number') range += ` AND w.rid > ${b.p(from)}`;
    if (o.maxRid !== undefined) range += ` AND w.rid <= ${b.p(o.maxRid)}`;
  }
  const edge = `(SELECT w.rid FROM resource w WHERE w.deleted = 0${range} ORDER BY w.rid ${o.reverse ? 'DESC' : 'ASC'} LIMIT 1 OFFSET ${b.p(o.window - 1)}) AS edge`;
  const m = `${o.maxRid === undefined ? MAX_RID : 'NULL'} AS m`;
  const row = await q.get<Record<string, number | string | null>>(
    `SELECT ${[...counts.map(([, sql]) => sql), edge, m].join(', ')}`,
    b.params,
    { deadline: o.deadline },
  );
  let best = { driver: 0, n: Number.POSITIVE_INFINITY, narrow: false };
  for (const [i, , limit] of counts) {
    const n = Number(row?.[`n${i}`] ?? 0);
    const narrow = n < limit;
    if (narrow !== best.narrow ? narrow : n < best.n) best = { driver: i, n, narrow };
  }
  const e = row?.edge;
  return {
    driver: best.driver,
    narrow: best.narrow,
    edge: e === null || e === undefined ? undefined : Number(e),
    maxRid: o.maxRid ?? Number(row?.m ?? 0),
  };
}

/**
 * The clause to drive a type search that is not walked, when several clauses could list their
 * matches (SQLite): the one listing the fewest rows, if it lists fewer than `narrow`. SQLite lists
 * every match of each `rid IN (…)` clause but the one it drives from, whatever that one yields: a
 * patient's Observations of one code (`patient=…&code=…`) listed all 9,535 Observations of that
 * code to test the patient's 166 (1.5 ms); driven by the patient's list with the code tested per
 * row through the (rid, sp) indexes, 0.3 ms. Counting costs an index range per clause, each
 * stopped at `narrow` or at the fewest rows counted before it. Undefined: the usual plan (fewer than two listable clauses, confined or
 * `$everything` searches, which already drive from the compartment, or none narrow).
 */
export async function narrowDriver(
  q: Queryable,
  input: SearchInput,
  req: SearchRequest,
  env: ClauseEnv,
  o: { narrow: number; deadline: number },
): Promise<number | undefined> {
  const t = req.types[0];
  if (q.dialect !== 'sqlite' || t === undefined || req.types.length !== 1) return undefined;
  if (input.types.length !== 1 || input.compartment !== undefined) return undefined;
  if (input.everything !== undefined) return undefined;
  if ((env.constraint?.types[t] ?? env.constraint?.types['*'])?.compartment !== undefined)
    return undefined;
  const listable: { i: number; b: SqlBuilder; rows: string }[] = [];
  for (const [i, clause] of (req.clauses.get(t) ?? []).entries()) {
    const b = new SqlBuilder();
    const rows = clauseRowsSql(b, clause, env);
    if (rows !== undefined) listable.push({ i, b, rows });
  }
  if (listable.length < 2) return undefined;
  // one clause at a time, each counted only as far as the fewest so far (a narrow clause makes
  // counting a broad one cheap)
  let best = { driver: 0, n: o.narrow };
  for (const { i, b, rows } of listable) {
    const row = await q.get<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM (${rows} LIMIT ${b.p(best.n)}) c`,
      b.params,
      { deadline: o.deadline },
    );
    const n = Number(row?.n ?? 0);
    if (n < best.n) best = { driver: i, n };
  }
  return best.n < o.narrow ? best.driver : undefined;
}
