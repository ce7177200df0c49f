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
function drivenWhere(
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
 * A page in row id order of a search whose clauses usually match many rows (see walkWindow). When
 * one clause lists fewer than `narrow` rows, it drives. Otherwise the live rows of the type are
 * walked from the cursor, at most `window` of them, each tested through the indexes clause by
 * clause: the walk visits rows in page order, so what it finds are the page's first rows; when it
 * ends before the page is full, the rest of the page is read past its edge from the narrowest
 * clause's list. Returns the rows (the page plus one when there is more) and the row id bound.
 */
export async function walkPage(
  q: Queryable,
  o: WalkInput,
): Promise<{ rows: PageRow[]; maxRid: number }> {
  const { cursor, reverse, deadline } = o;
  const plan = await survey(q, { ...o, narrow: o.tuning.narrow });
  const { maxRid } = plan;
  const limit = o.req.count + 1;
  const from = (b: SqlBuilder, keys: readonly SortKey[]): string =>
    cursor === undefined || cursor.d === 'l' ? '1 = 1' : afterSql(b, keys, cursor.k, reverse);

  let rows: PageRow[] = [];
  let past: number | undefined;
  if (!plan.narrow) {
    const b = new SqlBuilder();
    let where = `${baseWhere(b, o.input, o.req, { ...o.env, walk: true }, [])} AND r.rid <= ${b.p(maxRid)}`;
    if (plan.edge !== undefined) where += ` AND r.rid ${reverse ? '>=' : '<='} ${b.p(plan.edge)}`;
    const after = from(b, o.keys);
    rows = await readPage(
      q,
      b,
      { keys: o.keys, where, after, reverse, limit, withMax: false },
      deadline,
    );
    if (plan.edge === undefined || rows.length >= limit) return { rows, maxRid };
    past = plan.edge;
  }
  const b = new SqlBuilder();
  let where = `${drivenWhere(b, o.input, o.req, o.env, plan.driver)} AND r.rid <= ${b.p(maxRid)}`;
  if (past !== undefined) where += ` AND r.rid ${reverse ? '<' : '>'} ${b.p(past)}`;
  const after = from(b, LISTED);
  const rest = await readPage(
    q,
    b,
    { keys: LISTED, where, after, reverse, limit: limit - rows.length, withMax: false },
    deadline,
  );
  return { rows: [...rows, ...rest], maxRid };
}
