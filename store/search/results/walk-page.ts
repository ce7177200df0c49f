import type { Queryable } from '../../engines/engine.js';
import type { SearchRequest } from '../query/request.js';
import type { SearchInput, WalkTuning } from '../search-input.js';
import { baseWhere } from '../sql/base-where.js';
import { SqlBuilder } from '../sql/builder.js';
import { clausesSql, type ClauseEnv } from '../sql/clause-sql.js';
import { afterSql, type SortKey } from '../sql/order.js';
import type { Cursor } from './cursor.js';
import { readPage, type PageRow } from './page-query.js';
import { survey } from './walk-plan.js';

/**
 * The row id as a sort key the planner cannot take from an index: a page read from a listed
 * clause sorts its matches, rather than walking the type in row id order in the hope that the
 * matches come early (PostgreSQL chose that walk for a quarter of 135 matches: 31,793 rows, 33 ms).
 */
const LISTED: SortKey[] = [{ expr: 'r.rid + 0', desc: false, nullable: false }];

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

export interface WalkInput {
  input: SearchInput;
  req: SearchRequest;
  env: ClauseEnv;
  keys: readonly SortKey[];
  cursor: Cursor | undefined;
  maxRid: number | undefined;
  reverse: boolean;
  window: number;
  tuning: WalkTuning;
  deadline: number;
}

/**
 * How much wider each further walk of ranges is than the one before, in row ids. Its far end is
 * estimated from the last walk's width, not counted: finding the 8,192nd Observation past the edge
 * (an `OFFSET` over as many index entries) cost PostgreSQL about 1 ms of a 7 ms date-range search.
 * Any end is correct (the walks stay contiguous); it only bounds one statement's work.
 */
const GROWTH = 8;

/**
 * The matches among the live rows of the type between `start` (excluded) and `edge`, walked. The
 * row id range is given as one bound on each side: with two upper bounds (the edge and the
 * highest row id) SQLite took the wrong one and walked every Observation (35 ms, not 0.4).
 */
function walkRows(
  q: Queryable,
  o: WalkInput,
  range: { start: number | undefined; edge: number | undefined; maxRid: number; limit: number },
): Promise<PageRow[]> {
  const { cursor, reverse } = o;
  const at = cursor === undefined || cursor.d === 'l' ? undefined : cursor.k[0];
  const from = range.start ?? (typeof at === 'number' ? at : undefined);
  const [lo, hi] = reverse
    ? [range.edge, from === undefined ? range.maxRid : Math.min(from - 1, range.maxRid)]
    : [
        from === undefined ? undefined : from + 1,
        Math.min(range.edge ?? range.maxRid, range.maxRid),
      ];
  const b = new SqlBuilder();
  let where = baseWhere(b, o.input, o.req, { ...o.env, walk: true }, []);
  if (lo !== undefined) where += ` AND r.rid >= ${b.p(lo)}`;
  where += ` AND r.rid <= ${b.p(hi)}`;
  const after =
    cursor === undefined || cursor.d === 'l' ? '1 = 1' : afterSql(b, o.keys, cursor.k, reverse);
  return readPage(
    q,
    b,
    { keys: o.keys, where, after, reverse, limit: range.limit, withMax: false },
    o.deadline,
  );
}

/**
 * A page in row id order of a search whose clauses usually match many rows (see walkWindow). When
 * one clause lists fewer than `narrow` rows, it drives. Otherwise the live rows of the type are
 * walked from the cursor, `window` of them at first, each tested through the indexes clause by
 * clause: the walk visits rows in page order, so what it finds are the page's first rows. When it
 * ends before the page is full, ranges of values walk on, each range of row ids eight times wider
 * (listing such clauses costs as much as walking every row of the type); a `_has` (whose test of a
 * row walks its referrers) reads the rest of the page past the edge from the narrowest clause's
 * list.
 * Returns the rows (the page plus one when there is more) and the row id bound.
 */
export async function walkPage(
  q: Queryable,
  o: WalkInput,
): Promise<{ rows: PageRow[]; maxRid: number }> {
  const { cursor, reverse, deadline } = o;
  const plan = await survey(q, o);
  const { maxRid } = plan;
  const limit = o.req.count + 1;
  const has = (o.req.clauses.get(o.req.types[0] ?? '') ?? []).some((c) => c.kind === 'has');

  let rows: PageRow[] = [];
  let past: number | undefined;
  if (!plan.narrow) {
    let start: number | undefined;
    let edge = plan.edge;
    const at = cursor === undefined || cursor.d === 'l' ? undefined : cursor.k[0];
    // where the last walk began (excluded): the cursor, else before the first or past the last row
    let from = typeof at === 'number' ? at : reverse ? maxRid + 1 : 0;
    for (;;) {
      const got = await walkRows(q, o, { start, edge, maxRid, limit: limit - rows.length });
      rows = [...rows, ...got];
      if (edge === undefined || rows.length >= limit) return { rows, maxRid };
      if (has) break;
      // the next range of row ids, GROWTH times as wide as the last (the first held `window` rows
      // of the type): about GROWTH times as many rows, estimated rather than counted
      const reach = Math.max(1, Math.abs(edge - from)) * GROWTH;
      from = start = edge;
      const next = reverse ? edge - reach : edge + reach;
      edge = reverse ? (next <= 0 ? undefined : next) : next >= maxRid ? undefined : next;
    }
    past = edge;
  }
  const b = new SqlBuilder();
  let where = `${drivenWhere(b, o.input, o.req, o.env, plan.driver)} AND r.rid <= ${b.p(maxRid)}`;
  if (past !== undefined) where += ` AND r.rid ${reverse ? '<' : '>'} ${b.p(past)}`;
  const after =
    cursor === undefined || cursor.d === 'l' ? '1 = 1' : afterSql(b, LISTED, cursor.k, reverse);
  const rest = await readPage(
    q,
    b,
    { keys: LISTED, where, after, reverse, limit: limit - rows.length, withMax: false },
    deadline,
  );
  return { rows: [...rows, ...rest], maxRid };
}
