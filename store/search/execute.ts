export type { SearchInput, SearchLimits } from './search-input.js';
import type { Queryable, SqlValue } from '../engines/engine.js';
import { QueryTimeoutError } from '../engines/engine.js';
import { FhirError, issue, notFound } from '../fhir/outcome.js';
import { loadContext } from './context.js';
import { isResourceType } from './definitions/resource-types.js';
import { parseSearchRequest } from './query/parse-request.js';
import { decodeCursor, encodeCursor, type Cursor } from './results/cursor.js';
import { resolveIncludes, type Row } from './results/includes.js';
import type { PageEntry, PageLink, SearchPage } from './results/page.js';
import { shapeJson } from './results/shape.js';
import { SqlBuilder } from './sql/builder.js';
import type { ClauseEnv } from './sql/clause-sql.js';
import { baseWhere } from './sql/base-where.js';
import { link } from './results/links.js';
import type { SearchInput, SearchLimits } from './search-input.js';
import { constraintSql } from './sql/constraint-sql.js';
import { afterSql, sortKeys } from './sql/order.js';
import { MAX_RID, readPage, type PageRow } from './results/page-query.js';
import { drivenWhere, walkPage } from './results/walk-page.js';
import { loneChain } from './results/lone-chain.js';
import { narrowDriver, WALK_DEFAULTS, walkWindow } from './results/walk-plan.js';

const EVERYTHING_PARAMS = new Set(['start', 'end', '_since']);

function budgetError(): FhirError {
  return new FhirError(400, [
    issue(
      'error',
      'too-costly',
      'the search ran past the query time budget; narrow it (fewer scans, :contains, chains) and retry',
    ),
  ]);
}

export async function executeSearch(
  q: Queryable,
  input: SearchInput,
  limits: SearchLimits,
): Promise<SearchPage> {
  const deadline = limits.deadline ?? Date.now() + limits.queryTimeoutMs;
  try {
    return await run(q, input, limits, deadline);
  } catch (e) {
    if (e instanceof QueryTimeoutError) throw budgetError();
    throw e;
  }
}

async function run(
  q: Queryable,
  input: SearchInput,
  limits: SearchLimits,
  deadline: number,
): Promise<SearchPage> {
  for (const t of input.types)
    if (!isResourceType(t)) throw notFound(`unknown resource type '${t}'`);
  const ctx = await loadContext(q);
  const everythingExtra =
    input.everything === undefined ? [] : input.params.filter(([n]) => EVERYTHING_PARAMS.has(n));
  const params =
    input.everything === undefined
      ? input.params
      : input.params.filter(([n]) => !EVERYTHING_PARAMS.has(n));
  const req = parseSearchRequest(ctx.registry, input.types, params, {
    strict: input.strict,
    defaultCount: limits.defaultCount,
    maxCount: limits.maxCount,
  });
  if (req.count > limits.maxCount) {
    req.issues.push(
      issue(
        'information',
        'informational',
        `_count was lowered to the maximum ${limits.maxCount}`,
        ['_count'],
      ),
    );
    req.count = limits.maxCount;
  }
  const env: ClauseEnv = {
    registry: ctx.registry,
    constraint: input.constraint,
    constraintCache: new Map(),
    depth: 0,
    baseUrl: input.baseUrl,
    now: Date.now(),
    ...(q.dialect === 'postgres' ? { fence: ' OFFSET 0' } : {}),
  };
  if (input.everything !== undefined)
    await requireVisiblePatient(q, input.everything.id, env, deadline);
  if (input.compartment !== undefined)
    await requireVisiblePatient(q, input.compartment.id, env, deadline);

  const cursor: Cursor | undefined =
    req.cursor === undefined ? undefined : decodeCursor(req.cursor);
  // The highest row id when the first page was served bounds every later page (see Cursor). The
  // first page reads it in its own query, where the bound itself would be redundant (one snapshot)
  // and only blur the planner's estimates; later pages carry it in the cursor.
  let maxRid = cursor?.m;
  const ridBound = (x: SqlBuilder): string =>
    maxRid === undefined ? '' : ` AND r.rid <= ${x.p(maxRid)}`;
  const b = new SqlBuilder();
  const keys = sortKeys(
    b,
    ctx.registry,
    req.sort,
    req.types.length === 1 ? req.types[0] : undefined,
    'r',
  );

  let rows: PageRow[] = [];
  let more = false;
  if (req.summary !== 'count' && req.count > 0) {
    const reverse = cursor?.d === 'p' || cursor?.d === 'l';
    const limit = req.count + 1;
    const tuning = limits.walk ?? WALK_DEFAULTS;
    const window = walkWindow(input, req, keys, env, tuning);
    if (window !== undefined && tuning !== false) {
      // clauses that usually match many rows: walked (or driven by one that lists few)
      const walked = await walkPage(q, {
        input,
        req,
        env,
        keys,
        cursor,
        maxRid,
        reverse,
        window,
        tuning,
        deadline,
      });
      rows = walked.rows;
      maxRid = walked.maxRid;
    } else {
      const driver =
        tuning === false
          ? undefined
          : await narrowDriver(q, input, req, env, { narrow: tuning.narrow, deadline });
      const lone =
        driver === undefined && tuning !== false
          ? loneChain(q.dialect, b, input, req, env, keys)
          : undefined;
      const page = lone ?? {
        where:
          driver === undefined
            ? baseWhere(b, input, req, env, everythingExtra)
            : drivenWhere(b, input, req, env, driver),
        keys,
      };
      const where = `${page.where}${ridBound(b)}`;
      const after =
        cursor === undefined || cursor.d === 'l'
          ? '1 = 1'
          : afterSql(b, page.keys, cursor.k, reverse);
      const withMax = maxRid === undefined;
      rows = await readPage(q, b, { ...page, where, after, reverse, limit, withMax }, deadline);
      if (withMax && rows[0] !== undefined) maxRid = Number(rows[0].m ?? 0);
    }
    more = rows.length > req.count;
    rows = rows.slice(0, req.count);
    if (reverse) rows.reverse();
  }

  // Bundle.total: counted for `_summary=count` and `_total=accurate` / `estimate` (an exact count
  // is a valid estimate); otherwise given only when the first page holds every match, and left
  // out when that would take a second pass over the matches (FHIR R4 lets the server choose).
  let total: number | undefined;
  const counted = req.summary === 'count' || req.total === 'accurate' || req.total === 'estimate';
  if (
    req.summary !== 'count' &&
    req.total !== 'none' &&
    cursor === undefined &&
    !more &&
    req.count > 0
  )
    total = rows.length;
  else if (counted) {
    // the same WHERE without the sort-key columns, bounded as the page was
    const cb = new SqlBuilder();
    const countSql = `SELECT COUNT(*) AS n FROM resource r WHERE ${baseWhere(cb, input, req, env, everythingExtra)}${ridBound(cb)}`;
    total = Number(
      (await q.get<{ n: number | string }>(countSql, cb.params, { deadline, planEach: true }))?.n ??
        0,
    );
  }

  // no page row carried it (an empty first page): the last link still needs it
  if (maxRid === undefined && req.summary !== 'count')
    maxRid = Number(
      (await q.get<{ m: number | string | null }>(`SELECT ${MAX_RID} AS m`, [], { deadline }))?.m ??
        0,
    );
  const m = maxRid ?? 0;
  const keyOf = (row: Record<string, SqlValue> | undefined): SqlValue[] =>
    keys.map((_, i) => row?.[`k${i}`] ?? null);
  const links: PageLink[] = [{ relation: 'self', url: link(input, req, req.cursor) }];
  if (req.summary !== 'count') {
    links.push({ relation: 'first', url: link(input, req, undefined) });
    const first = rows[0];
    const last = rows[rows.length - 1];
    const hasPrev = cursor === undefined ? false : cursor.d === 'n' ? true : more;
    const hasNext = cursor === undefined || cursor.d === 'n' ? more : cursor.d === 'p';
    if (hasPrev && first !== undefined)
      links.push({
        relation: 'previous',
        url: link(input, req, encodeCursor({ d: 'p', k: keyOf(first), m })),
      });
    if (hasNext && last !== undefined)
      links.push({
        relation: 'next',
        url: link(input, req, encodeCursor({ d: 'n', k: keyOf(last), m })),
      });
    links.push({
      relation: 'last',
      url: link(input, req, encodeCursor({ d: 'l', k: [], m })),
    });
  }

  const matches: Row[] = rows.map((r) => ({
    rid: r.rid,
    type: r.type,
    id: r.id,
    version: r.version,
    json: r.json,
  }));
  const inc = await resolveIncludes(q, req.include, req.revinclude, matches, env, {
    maxIncludes: limits.maxIncludes ?? 1000,
    maxIterate: limits.maxIterate ?? 3,
    deadline,
  });
  const entries: PageEntry[] = [
    ...matches.map((m) => ({ ...m, mode: 'match' as const })),
    ...inc.rows.map((m) => ({ ...m, mode: 'include' as const })),
  ].map((e) => ({
    type: e.type,
    id: e.id,
    version: e.version,
    mode: e.mode,
    json: shapeJson(e.json, e.type, req.summary, req.elements),
    stored: e.json,
  }));
  const all = [...matches, ...inc.rows];
  return {
    entries,
    total,
    links,
    issues: [...req.issues, ...inc.issues],
    entities: all.map((r) => `${r.type}/${r.id}/_history/${r.version}`),
  };
}

async function requireVisiblePatient(
  q: Queryable,
  id: string,
  env: ClauseEnv,
  deadline: number,
): Promise<void> {
  const b = new SqlBuilder();
  const sql = `SELECT r.rid FROM resource r WHERE r.type = 'Patient' AND r.id = ${b.p(id)} AND r.deleted = 0 AND ${constraintSql(b, 'Patient', 'r', env)}`;
  if ((await q.get(sql, b.params, { deadline })) === undefined)
    throw notFound(`Patient/${id} is not known`);
}
