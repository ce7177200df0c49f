import type { Queryable } from '../../engines/engine.js';
import { issue, type OutcomeIssue } from '../../fhir/outcome.js';
import type { IncludeSpec } from '../query/request.js';
import { or, SqlBuilder } from '../sql/builder.js';
import type { ClauseEnv } from '../sql/clause-sql.js';
import { constraintSql } from '../sql/constraint-sql.js';
import { spKeyTest } from '../sql/tables.js';

export interface Row {
  rid: number;
  type: string;
  id: string;
  version: number;
  json: string;
}

export interface IncludeLimits {
  maxIncludes: number;
  maxIterate: number;
  deadline: number;
}

function constraintForTypes(
  b: SqlBuilder,
  types: readonly string[] | undefined,
  t: string,
  env: ClauseEnv,
): string {
  if (types === undefined) return constraintSql(b, undefined, t, env);
  return or(
    [...new Set(types)].map((ty) => `(${t}.type = ${b.p(ty)} AND ${constraintSql(b, ty, t, env)})`),
  );
}

/**
 * The rows whose ids `ridSql` selects, JSON read only for them (the DISTINCT and ORDER BY run on
 * ids, never on JSON text).
 */
function withRows(ridSql: string): string {
  return `SELECT r.rid, r.type, r.id, r.version, r.json FROM resource r WHERE r.rid IN (${ridSql}) ORDER BY r.rid`;
}

async function forward(
  q: Queryable,
  spec: IncludeSpec,
  sources: Row[],
  env: ClauseEnv,
  limit: number,
  deadline: number,
): Promise<Row[]> {
  const from = sources.filter((s) => s.type === spec.sourceType);
  if (from.length === 0 || limit <= 0) return [];
  const b = new SqlBuilder();
  const targets =
    spec.targetType !== undefined ? [spec.targetType] : spec.params.flatMap((p) => p.target);
  // placeholders are bound in text order
  let sql = `SELECT DISTINCT t.rid FROM sp_ref x JOIN resource t ON t.type = x.ttype AND t.id = x.tid
    WHERE x.rid IN (${b.list(from.map((s) => s.rid))}) AND ${or(spec.params.map((p) => spKeyTest(b, 'x', p)))} AND t.deleted = 0 AND hearth_budget() = 1`;
  if (spec.targetType !== undefined) sql += ` AND t.type = ${b.p(spec.targetType)}`;
  sql += ` AND ${constraintForTypes(b, targets.length > 0 ? targets : undefined, 't', env)}`;
  sql += ` ORDER BY t.rid LIMIT ${b.p(limit)}`;
  return q.all<Row>(withRows(sql), b.params, { deadline, planEach: true });
}

async function reverse(
  q: Queryable,
  spec: IncludeSpec,
  sources: Row[],
  env: ClauseEnv,
  limit: number,
  deadline: number,
): Promise<Row[]> {
  if (sources.length === 0 || limit <= 0) return [];
  const b = new SqlBuilder();
  const byType = new Map<string, string[]>();
  for (const s of sources) byType.set(s.type, [...(byType.get(s.type) ?? []), s.id]);
  let sql = `SELECT DISTINCT t.rid FROM sp_ref x JOIN resource t ON t.rid = x.rid
    WHERE ${or(spec.params.map((p) => spKeyTest(b, 'x', p)))}`;
  sql += ` AND ${or([...byType].map(([type, ids]) => `(x.ttype = ${b.p(type)} AND x.tid IN (${b.list(ids)}))`))}`;
  sql += ` AND t.deleted = 0 AND hearth_budget() = 1 AND ${constraintSql(b, spec.sourceType, 't', env)} ORDER BY t.rid LIMIT ${b.p(limit)}`;
  return q.all<Row>(withRows(sql), b.params, { deadline, planEach: true });
}

/**
 * The resources `_include` / `_revinclude` add to a page of matches, each filtered by the access
 * constraint inside its query; `:iterate` specs run again on what the previous round added, up to
 * `maxIterate` rounds. At most `maxIncludes` are returned; beyond that a warning says so.
 */
export async function resolveIncludes(
  q: Queryable,
  include: readonly IncludeSpec[],
  revinclude: readonly IncludeSpec[],
  matches: Row[],
  env: ClauseEnv,
  limits: IncludeLimits,
): Promise<{ rows: Row[]; issues: OutcomeIssue[] }> {
  const seen = new Set(matches.map((m) => m.rid));
  const out: Row[] = [];
  const issues: OutcomeIssue[] = [];
  let sources = matches;
  let truncated = false;
  for (let round = 0; sources.length > 0; round++) {
    if (round > limits.maxIterate) {
      issues.push(
        issue(
          'warning',
          'too-costly',
          `_include:iterate stopped after ${limits.maxIterate} rounds`,
        ),
      );
      break;
    }
    const added: Row[] = [];
    const specs = [
      ...include.filter((s) => round === 0 || s.iterate).map((s) => ({ s, rev: false })),
      ...revinclude.filter((s) => round === 0 || s.iterate).map((s) => ({ s, rev: true })),
    ];
    if (specs.length === 0) break;
    for (const { s, rev } of specs) {
      const room = limits.maxIncludes - out.length;
      const rows = await (rev ? reverse : forward)(q, s, sources, env, room + 1, limits.deadline);
      for (const r of rows) {
        if (seen.has(r.rid)) continue;
        if (out.length >= limits.maxIncludes) {
          truncated = true;
          break;
        }
        seen.add(r.rid);
        out.push(r);
        added.push(r);
      }
    }
    if (truncated) break;
    sources = added;
  }
  if (truncated)
    issues.push(
      issue(
        'warning',
        'too-costly',
        `included resources were limited to ${limits.maxIncludes} per page; narrow the search or lower _count`,
      ),
    );
  return { rows: out, issues };
}
