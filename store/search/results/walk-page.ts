import type { Queryable } from '../../engines/engine.js';
import type { Clause, SearchRequest } from '../query/request.js';
import type { SearchInput, WalkTuning } from '../search-input.js';
import { baseWhere } from '../sql/base-where.js';
import { SqlBuilder } from '../sql/builder.js';
import { clauseRowsSql, clausesSql, type ClauseEnv } from '../sql/clause-sql.js';
import { afterSql, type SortKey } from '../sql/order.js';
import type { Cursor } from './cursor.js';
import { MAX_RID, readPage, type PageRow } from './page-query.js';

/**
 * A range test on a date, number or quantity costs one index probe per row walked; a `_has` costs
 * a walk through the row's referrers, so it gets a shorter walk. A clause listing fewer than
 * `narrow` rows costs less listed than a walk.
 */
export const WALK_DEFAULTS: WalkTuning = { leafWindow: 2048, hasWindow: 64, narrow: 1000 };

/** Clauses whose matches are usually many (a range of dates or values, a `_has`). */
function windowFor(clause: Clause, tuning: WalkTuning): number | undefined {
  if (clause.kind === 'has') return tuning.hasWindow;
  if (clause.kind !== 'param' || clause.param.code === '_id') return undefined;
  const t = clause.param.type;
  return t === 'date' || t === 'number' || t === 'quantity' ? tuning.leafWindow : undefined;
}

/**
 * When a type search in the default order (row id) should walk: every clause is one that usually
 * matches many rows, so the first page is found among the first rows of the type, while the usual
 * plan lists every match of each clause before choosing the page (a quarter of Observation dates:
 * every Observation after its start and every one before its end). Undefined: use the usual plan.
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

export interface WalkedPage {
  /** The page's first rows in page order: all of it when `complete`. */
  rows: PageRow[];
  /** The highest row id the page (and every later page) is bounded by. */
  maxRid: number;
  /** Whether `rows` is the whole page; if not, the page continues past row id `edge`. */
  complete: boolean;
  edge: number;
}

/**
 * The page in row id order, found by walking at most `window` rows of the type from the cursor
 * (each tested through the indexes, clause by clause), not by listing every match of each clause.
 * The walk visits rows in page order, so the rows it finds are the page's first rows; when it
 * ends before the page is full and rows remain, the caller reads the rest past `edge`.
 */
export async function walkPage(
  q: Queryable,
  o: {
    input: SearchInput;
    req: SearchRequest;
    env: ClauseEnv;
    keys: readonly SortKey[];
    cursor: Cursor | undefined;
    maxRid: number | undefined;
    reverse: boolean;
    window: number;
    deadline: number;
  },
): Promise<WalkedPage> {
  const { cursor, reverse } = o;
  const type = o.req.types[0] ?? '';
  const start = (b: SqlBuilder, r: string): string => {
    const from = cursor === undefined || cursor.d === 'l' ? undefined : cursor.k[0];
    const bound = o.maxRid === undefined ? '' : ` AND ${r}.rid <= ${b.p(o.maxRid)}`;
    return typeof from === 'number'
      ? `${bound} AND ${r}.rid ${reverse ? '<' : '>'} ${b.p(from)}`
      : bound;
  };
  // the window's far end: the `window`-th row of the type from the start, if there are that many
  const eb = new SqlBuilder();
  const edgeSql = `SELECT w.rid FROM resource w WHERE w.type = ${eb.p(type)} AND w.deleted = 0${start(eb, 'w')} ORDER BY w.rid ${reverse ? 'DESC' : 'ASC'} LIMIT 1 OFFSET ${eb.p(o.window - 1)}`;
  const head = await q.get<{ edge: number | string | null; m: number | string | null }>(
    `SELECT (${edgeSql}) AS edge, ${o.maxRid === undefined ? MAX_RID : 'NULL'} AS m`,
    eb.params,
    { deadline: o.deadline },
  );
  const maxRid = o.maxRid ?? Number(head?.m ?? 0);
  const edge = head?.edge === null || head?.edge === undefined ? undefined : Number(head.edge);

  const b = new SqlBuilder();
  let where = `${baseWhere(b, o.input, o.req, { ...o.env, walk: true }, [])} AND r.rid <= ${b.p(maxRid)}`;
  if (edge !== undefined) where += ` AND r.rid ${reverse ? '>=' : '<='} ${b.p(edge)}`;
  const after =
    cursor === undefined || cursor.d === 'l' ? '1 = 1' : afterSql(b, o.keys, cursor.k, reverse);
  const limit = o.req.count + 1;
  const rows = await readPage(
    q,
    b,
    { keys: o.keys, where, after, reverse, limit, withMax: false },
    o.deadline,
  );
  return {
    rows,
    maxRid,
    complete: edge === undefined || rows.length >= limit,
    edge: edge ?? 0,
  };
}

/**
 * The clause that lists the fewest rows, counted up to `narrow` rows each (an index range each),
 * and whether it lists fewer than `narrow` (then it drives the search, the others tested row by row).
 */
export async function narrowestClause(
  q: Queryable,
  req: SearchRequest,
  env: ClauseEnv,
  narrow: number,
  deadline: number,
): Promise<{ index: number; narrow: boolean }> {
  const clauses = req.clauses.get(req.types[0] ?? '') ?? [];
  let best = { index: 0, n: Number.POSITIVE_INFINITY };
  for (const [index, clause] of clauses.entries()) {
    const b = new SqlBuilder();
    const rows = clauseRowsSql(b, clause, env);
    if (rows === undefined) continue;
    const counted = await q.get<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM (${rows} LIMIT ${b.p(narrow)}) c`,
      b.params,
      { deadline },
    );
    const n = Number(counted?.n ?? 0);
    if (n < best.n) best = { index, n };
    if (n === 0) break;
  }
  return { index: best.index, narrow: best.n < narrow };
}

/**
 * The WHERE of a type search driven by one of its clauses (it lists its matches) while the
 * others test each of them through the indexes, so no other clause lists all of its matches.
 */
export function drivenWhere(
  b: SqlBuilder,
  input: SearchInput,
  req: SearchRequest,
  env: ClauseEnv,
  driver: number,
): string {
  const t = req.types[0] ?? '';
  const clauses = req.clauses.get(t) ?? [];
  const lead = new Map(req.clauses);
  lead.set(
    t,
    clauses.filter((_, i) => i === driver),
  );
  const rest = clauses.filter((_, i) => i !== driver);
  const where = baseWhere(b, input, { ...req, clauses: lead }, env, []);
  return rest.length === 0
    ? where
    : `${where} AND ${clausesSql(b, rest, 'r', { ...env, walk: true })}`;
}
