import type { Queryable } from '../engines/engine.js';
import { QueryTimeoutError } from '../engines/engine.js';
import {
  badRequest,
  FhirError,
  issue,
  multipleMatches,
  notFound,
  preconditionFailed,
} from '../fhir/outcome.js';
import type { AccessConstraint } from '../protocol.js';
import { loadContext } from './context.js';
import { isResourceType } from './definitions/resource-types.js';
import { parseSearchRequest } from './query/parse-request.js';
import { SqlBuilder } from './sql/builder.js';
import { clausesSql, type ClauseEnv } from './sql/clause-sql.js';
import { constraintSql } from './sql/constraint-sql.js';

export interface Match {
  rid: number;
  id: string;
  version: number;
}

export interface FindOptions {
  constraint?: AccessConstraint | undefined;
  baseUrl: string;
  /** Return at most this many (ask for max + 1 to learn that there are more). */
  limit: number;
  queryTimeoutMs: number;
}

const RESULT_ONLY =
  /^_(sort|count|total|summary|elements|include|revinclude|cursor|format|pretty)(:|$)/;

/**
 * The current resources of `type` matching a conditional-operation query (`identifier=sys|v`),
 * inside the access constraint. Run it with the write transaction as `q` so the search and the
 * write it guards see the same data (race-free). Unknown or unsupported parameters are always a
 * 400 here (never ignored, so a typo cannot match everything), and so is an empty query.
 */
export async function findMatches(
  q: Queryable,
  type: string,
  query: string,
  opts: FindOptions,
): Promise<Match[]> {
  if (!isResourceType(type)) throw badRequest(`unknown resource type '${type}'`);
  const params = [...new URLSearchParams(query)].filter(([n]) => !RESULT_ONLY.test(n));
  if (params.length === 0) throw badRequest('a conditional operation needs search criteria');
  const ctx = await loadContext(q);
  const req = parseSearchRequest(ctx.registry, [type], params, {
    strict: true,
    defaultCount: 1,
    maxCount: 1,
  });
  const env: ClauseEnv = {
    registry: ctx.registry,
    constraint: opts.constraint,
    constraintCache: new Map(),
    depth: 0,
    baseUrl: opts.baseUrl,
    now: Date.now(),
  };
  const b = new SqlBuilder();
  const sql = `SELECT r.rid, r.id, r.version FROM resource r WHERE r.type = ${b.p(type)} AND r.deleted = 0 AND hearth_budget() = 1
    AND ${clausesSql(b, req.clauses.get(type) ?? [], 'r', env)} AND ${constraintSql(b, type, 'r', env)} ORDER BY r.rid LIMIT ${b.p(opts.limit)}`;
  try {
    return await q.all<Match>(sql, b.params, { deadline: Date.now() + opts.queryTimeoutMs });
  } catch (e) {
    if (e instanceof QueryTimeoutError)
      throw new FhirError(400, [
        issue('error', 'too-costly', 'the conditional search ran past the query time budget'),
      ]);
    throw e;
  }
}

export type ConditionalKind = 'create' | 'update' | 'patch' | 'delete' | 'reference';

/**
 * Applies http.html's rules for a conditional operation and returns what to act on:
 * - create (If-None-Exist): [] → create; [m] → return m unchanged (200); several → 412
 * - update (PUT Type?q): [] → create; [m] → update m; several → 412
 * - patch (PATCH Type?q): [] → 404; [m] → patch m; several → 412
 * - delete (DELETE Type?q): every match, up to `max` (CONDITIONAL_DELETE_MAX); more → 412
 * - reference (`Patient?identifier=…` in a transaction): exactly one, else 412
 */
export async function conditionalTargets(
  q: Queryable,
  kind: ConditionalKind,
  type: string,
  query: string,
  opts: Omit<FindOptions, 'limit'> & { max?: number },
): Promise<Match[]> {
  const max = kind === 'delete' ? (opts.max ?? 100) : 1;
  const found = await findMatches(q, type, query, { ...opts, limit: max + 1 });
  if (found.length > max) {
    if (kind === 'delete')
      throw preconditionFailed(`the conditional delete matches more than ${max} resources`);
    throw multipleMatches(`the condition ${type}?${query} matches more than one resource`);
  }
  if (found.length === 0 && kind === 'patch') throw notFound(`no ${type} matches ${query}`);
  if (found.length === 0 && kind === 'reference')
    throw preconditionFailed(`no ${type} matches the conditional reference ${type}?${query}`);
  return found;
}

/** A conditional reference (`Patient?identifier=sys|v`), as found in a transaction's resources. */
export const CONDITIONAL_REFERENCE = /^([A-Z][A-Za-z]+)\?(.+)$/;

/**
 * Resolves a conditional reference of a transaction to `Type/id` (run it in the transaction):
 * exactly one match, else 412 (none or several, http.html §transaction).
 */
export async function resolveConditionalReference(
  q: Queryable,
  reference: string,
  opts: Omit<FindOptions, 'limit'>,
): Promise<string> {
  const m = CONDITIONAL_REFERENCE.exec(reference);
  if (m?.[1] === undefined || m[2] === undefined)
    throw badRequest(`'${reference}' is not a conditional reference`);
  const [found] = await conditionalTargets(q, 'reference', m[1], m[2], opts);
  if (found === undefined) throw preconditionFailed(`no ${m[1]} matches ${reference}`);
  return `${m[1]}/${found.id}`;
}
