import { randomUUID } from 'node:crypto';
import type { Engine, Queryable } from '../engines/engine.js';
import { badRequest } from '../fhir/outcome.js';
import { contextFor, CUSTOM_KEY, forgetContext, GENERATION_KEY } from './context.js';
import { isResourceType } from './definitions/resource-types.js';
import type { SearchParameterResource } from './definitions/search-param.js';
import { branchesForType } from './definitions/split-expression.js';
import { compileExtractor } from './indexing/compile-expression.js';
import {
  extractRows,
  unindexResource,
  writeRows,
  type ResourceLike,
} from './indexing/index-resource.js';
import { INDEX_TABLES } from './schema.js';

/**
 * Refreshes planner statistics: a `_has` query took 1 s without them, < 5 ms with. SQLite:
 * a bounded `ANALYZE` (`analysis_limit`) when `full`, else `PRAGMA optimize` (analyses only what
 * changed); PostgreSQL: `VACUUM (ANALYZE)`, which also marks the pages written since as
 * all-visible, so the covering search indexes answer by index-only scans (a laboratory list of
 * 3,462 rows: 11 ms through the heap, 1.2 ms index-only) without waiting for autovacuum (which
 * may be off, and sees inserts late).
 */
export async function refreshStatistics(q: Queryable, full = false): Promise<void> {
  if (q.dialect === 'postgres') {
    // Only this store's tables (a bare VACUUM would visit every schema of the database).
    await q.run(`VACUUM (ANALYZE) resource, history, ${INDEX_TABLES.join(', ')}`);
    return;
  }
  if (full) {
    await q.run('PRAGMA analysis_limit = 1000');
    await q.run('ANALYZE');
  } else await q.run('PRAGMA optimize');
}

/**
 * Keeps statistics fresh without a scheduler: the write path notes index writes, and the search
 * path (outside any transaction) refreshes when there were many writes since (`everyWrites`, or
 * fewer when the store has grown by as many resources as it held at the last refresh, at least
 * `minGrowth`), when the database has never been analysed (e.g. after `hearth import` in another
 * process), or every 10 minutes. The growth rule covers a store first searched while empty and
 * then filled with fewer than `everyWrites` resources: PostgreSQL planned on the empty tables'
 * statistics until autovacuum caught up (a chain's `_total` count over 186 Observations took
 * 240–262 ms, re-running the chain's join per row, against milliseconds once analysed).
 */
export class StatisticsKeeper {
  private writes = 0;
  private lastRun = 0;
  /** Resources in the store at the last refresh (the planner's own estimate). */
  private rowsAtRun = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly everyWrites = 2000,
    private readonly everyMs = 600_000,
    private readonly minGrowth = 100,
  ) {}

  noteWrite(): void {
    this.writes++;
  }

  /** Enough writes since the last refresh to refresh again. */
  private due(): boolean {
    return this.writes >= Math.min(this.everyWrites, Math.max(this.minGrowth, this.rowsAtRun));
  }

  async maybeRefresh(q: Queryable): Promise<void> {
    if (this.running !== undefined) return;
    const now = Date.now();
    const first = this.lastRun === 0;
    if (!first && !this.due() && now - this.lastRun < this.everyMs) return;
    this.running = (async () => {
      let heavy = this.due();
      if (q.dialect === 'sqlite') {
        const stats = await q
          .get<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat1'")
          .catch(() => undefined);
        heavy ||= (stats?.n ?? 0) === 0;
      } else if (!heavy) {
        // PostgreSQL's autovacuum keeps statistics of a steadily written store fresh; this keeper
        // covers what it is slow to see: the first searches after a bulk load (a chained search
        // planned on empty statistics took 1.5 s on 600 resources, milliseconds after ANALYZE).
        const never = first
          ? await q
              .get<{ n: number }>(
                "SELECT COUNT(*)::int AS n FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = 'sp_token' AND last_analyze IS NULL AND last_autoanalyze IS NULL",
              )
              .catch(() => undefined)
          : undefined;
        if ((never?.n ?? 0) === 0) {
          this.lastRun = now;
          if (first) this.rowsAtRun = await estimatedRows(q);
          return;
        }
      }
      this.writes = 0;
      this.lastRun = now;
      await refreshStatistics(q, heavy).catch(() => undefined);
      this.rowsAtRun = await estimatedRows(q);
    })();
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }
}

/** The resources the planner's statistics count (0 when unknown). */
async function estimatedRows(q: Queryable): Promise<number> {
  const sql =
    q.dialect === 'postgres'
      ? "SELECT GREATEST(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = 'resource'::regclass"
      : "SELECT CAST(stat AS INTEGER) AS n FROM sqlite_stat1 WHERE tbl = 'resource' LIMIT 1";
  const row = await q.get<{ n: number | string | null }>(sql).catch(() => undefined);
  const n = Number(row?.n ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** The process-wide keeper the store's indexer and search provider share. */
export const statistics = new StatisticsKeeper();

const CODE = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const TYPES = new Set([
  'string',
  'token',
  'date',
  'reference',
  'quantity',
  'number',
  'uri',
  'composite',
]);

/**
 * Checks a SearchParameter resource before it is stored (call it in the write path for
 * type `SearchParameter`): code, base types, type, and an expression fhirpath.js compiles for
 * each base. Throws a 400 OperationOutcome.
 */
export function validateSearchParameter(sp: SearchParameterResource): void {
  if (sp.url === undefined || sp.url === '')
    throw badRequest('SearchParameter.url is required', ['SearchParameter.url']);
  if (sp.code === undefined || !CODE.test(sp.code))
    throw badRequest('SearchParameter.code is missing or malformed', ['SearchParameter.code']);
  if (sp.type === undefined || !TYPES.has(sp.type))
    throw badRequest('SearchParameter.type is not a searchable type', ['SearchParameter.type']);
  const base = sp.base ?? [];
  if (
    base.length === 0 ||
    !base.every((b) => isResourceType(b) || b === 'Resource' || b === 'DomainResource')
  )
    throw badRequest('SearchParameter.base must list resource types', ['SearchParameter.base']);
  if (sp.type === 'composite') return;
  if (sp.expression === undefined || sp.expression.trim() === '')
    throw badRequest('SearchParameter.expression is required', ['SearchParameter.expression']);
  for (const b of base) {
    const branches = branchesForType(
      sp.expression,
      b === 'Resource' || b === 'DomainResource' ? 'Patient' : b,
    );
    if (branches.length === 0)
      throw badRequest(`SearchParameter.expression has no branch for ${b}`, [
        'SearchParameter.expression',
      ]);
    try {
      compileExtractor(branches.join(' | '))({ resourceType: b });
    } catch (e) {
      throw badRequest(
        `SearchParameter.expression does not compile: ${e instanceof Error ? e.message : String(e)}`,
        ['SearchParameter.expression'],
      );
    }
  }
}

/**
 * `hearth reindex`: activates the stored custom SearchParameters, then rebuilds every current
 * resource's index rows in batches (each its own transaction, so the server keeps serving), bumps
 * the search generation (running servers pick it up on their next query) and refreshes statistics.
 */
export async function reindexAll(
  engine: Engine,
  batch = 500,
  onBatch?: (resources: number) => void,
): Promise<{ resources: number }> {
  const stored = await engine.all<{ json: string }>(
    "SELECT json FROM resource WHERE type = 'SearchParameter' AND deleted = 0 ORDER BY rid",
  );
  const custom: SearchParameterResource[] = [];
  for (const row of stored) {
    const sp = JSON.parse(row.json) as SearchParameterResource;
    try {
      validateSearchParameter(sp);
      if (sp.status !== 'retired') custom.push(sp);
    } catch {
      // an invalid stored SearchParameter stays inactive
    }
  }
  const generation = randomUUID();
  const ctx = contextFor(generation, custom);
  let count = 0;
  let after = 0;
  for (;;) {
    const rows = await engine.all<{ rid: number; json: string }>(
      'SELECT rid, json FROM resource WHERE rid > ? AND deleted = 0 ORDER BY rid LIMIT ?',
      [after, batch],
    );
    if (rows.length === 0) break;
    await engine.transaction(async (tx) => {
      for (const row of rows) {
        await unindexResource(tx, row.rid);
        await writeRows(tx, row.rid, extractRows(ctx, JSON.parse(row.json) as ResourceLike));
      }
    });
    count += rows.length;
    onBatch?.(rows.length);
    after = rows[rows.length - 1]?.rid ?? after;
  }
  await engine.transaction(async (tx) => {
    await tx.run('DELETE FROM search_meta WHERE key IN (?, ?)', [GENERATION_KEY, CUSTOM_KEY]);
    await tx.run('INSERT INTO search_meta (key, value) VALUES (?, ?), (?, ?)', [
      GENERATION_KEY,
      generation,
      CUSTOM_KEY,
      JSON.stringify(custom),
    ]);
  });
  forgetContext(engine);
  await refreshStatistics(engine, true);
  return { resources: count };
}
