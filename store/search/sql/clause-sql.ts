import { badRequest } from '../../fhir/outcome.js';
import type { AccessConstraint } from '../../protocol.js';
import type { SearchRegistry } from '../definitions/registry.js';
import type { SearchParam } from '../definitions/search-param.js';
import type { Clause } from '../query/request.js';
import { splitSystem, splitUnescaped } from '../query/values.js';
import { and, or, type SqlBuilder } from './builder.js';
import { constraintSql } from './constraint-sql.js';
import { datePredicate, valuePredicate, type PredicateEnv } from './predicates.js';
import { spKeyTest, TABLE_OF } from './tables.js';

export interface ClauseEnv extends PredicateEnv {
  registry: SearchRegistry;
  constraint: AccessConstraint | undefined;
  /** Parsed constraint filters, per `type\nquery`. */
  constraintCache: Map<string, Clause[]>;
  /** How deep constraint filters are nested in each other (bounded). */
  depth: number;
  /**
   * The rows of `r` are few and listed by another clause (a patient's compartment): clauses on
   * `r` test each row (correlated EXISTS) instead of listing every match of their own.
   */
  correlate?: boolean;
  /**
   * The rows of `r` are walked in row id order a few at a time (see walk-page.ts): every clause,
   * chains and `_has` included, tests the row at hand through the indexes, down to the leaves.
   */
  walk?: boolean;
  /**
   * Ends each of a walk's per-row `EXISTS` subqueries (PostgreSQL: ` OFFSET 0`). PostgreSQL turns
   * an `EXISTS` into a semi join, and may then hash every match of the clause instead of probing
   * the walked rows: for `Observation?date=ge2026-01-01&date=lt2026-04-01` at 600 patients it
   * hashed all 13,236 date rows from 2026 on (estimated 2,811) to test 1,024 Observations, 7.2 ms
   * of an 8.4 ms statement. An `OFFSET` keeps the subquery a per-row probe.
   */
  fence?: string;
}

/** What closes a walk's per-row `EXISTS` (see ClauseEnv.fence). */
const probeEnd = (env: ClauseEnv): string => (env.walk === true ? (env.fence ?? '') : '');

function spTest(
  b: SqlBuilder,
  x: string,
  r: string,
  param: SearchParam,
  anyType: boolean,
  suffix = '',
): string {
  if (anyType) return `${x}.sp = ${r}.type || ${b.p(`.${param.code}${suffix}`)}`;
  return spKeyTest(b, x, param, suffix);
}

function missingSql(
  b: SqlBuilder,
  r: string,
  param: SearchParam,
  anyType: boolean,
  value: string,
): string {
  if (value !== 'true' && value !== 'false')
    throw badRequest(`:missing takes true or false, not '${value}'`);
  // (a search over several types, anyType, is on a Resource-level parameter: never a composite)
  let exists: string;
  if (param.type === 'composite') {
    exists = compositeExists(b, r, param);
  } else {
    const table = TABLE_OF[param.type];
    if (table === undefined) throw badRequest(`'${param.code}' has no :missing`);
    const x = b.alias('m');
    exists = `EXISTS (SELECT 1 FROM ${table} ${x} WHERE ${x}.rid = ${r}.rid AND ${spTest(b, x, r, param, anyType)})`;
  }
  return value === 'true' ? `NOT ${exists}` : exists;
}

/**
 * Whether `r` has a (whole) tuple of the composite `param`: rows of its first component (only
 * whole tuples are written), of each of its components' sources (`componentRows`: a resource's one
 * tuple is whole when each has a value), or, for a union, of one of its members'. A token
 * source's row counts only with a system or code: a component never has a row without both (a
 * concept's text, see addToken in indexing/to-rows.ts), and such a row matches no composite value.
 */
function compositeExists(b: SqlBuilder, r: string, param: SearchParam): string {
  if (param.union !== undefined) return or(param.union.map((m) => compositeExists(b, r, m)));
  const parts = param.componentRows?.map((q) => ({ param: q, key: q.key })) ?? [
    { param: param.components[0]?.param, key: `${param.key}#0` },
  ];
  return and(
    parts.map((part) => {
      const table = part.param === undefined ? undefined : TABLE_OF[part.param.type];
      if (table === undefined) throw badRequest(`'${param.code}' has no :missing`);
      const x = b.alias('m');
      const coded =
        param.componentRows !== undefined && part.param?.type === 'token'
          ? ` AND (${x}.system IS NOT NULL OR ${x}.code IS NOT NULL)`
          : '';
      return `EXISTS (SELECT 1 FROM ${table} ${x} WHERE ${x}.rid = ${r}.rid AND ${x}.sp = ${b.p(part.key)}${coded})`;
    }),
  );
}

function compositeSql(
  b: SqlBuilder,
  r: string,
  param: SearchParam,
  raw: string,
  env: ClauseEnv,
): string {
  // a union's tuples are its members' (each member's components are in the same order)
  if (param.union !== undefined) return or(param.union.map((m) => compositeSql(b, r, m, raw, env)));
  const parts = splitUnescaped(raw, '$');
  if (parts.length !== param.components.length)
    throw badRequest(`'${raw}' needs ${param.components.length} parts joined by $`);
  // r.rid IN (first component's rows, each joined to the next component of the same tuple; a root
  // composite's one tuple is the resource's rows of each component's source, see componentRows)
  const sources = param.componentRows;
  let sql = '';
  let first: string | undefined;
  let prev: string | undefined;
  const closers: string[] = [];
  param.components.forEach((c, i) => {
    const table = TABLE_OF[c.param.type];
    if (table === undefined) throw badRequest(`composite '${param.code}' cannot be searched`);
    const x = b.alias('c');
    const head =
      first === undefined || prev === undefined
        ? `${r}.rid IN (SELECT ${x}.rid FROM ${table} ${x} WHERE `
        : ` AND EXISTS (SELECT 1 FROM ${table} ${x} WHERE ${x}.rid = ${first}.rid AND ${sources === undefined ? `${x}.grp = ${prev}.grp AND ` : ''}`;
    const key = sources?.[i]?.key ?? `${param.key}#${i}`;
    sql += `${head}${x}.sp = ${b.p(key)} AND ${valuePredicate(b, c.param.type, x, parts[i] ?? '', undefined, env)}`;
    closers.push(')');
    first ??= x;
    prev = x;
  });
  return `(${sql}${closers.join('')})`;
}

function leafSql(
  b: SqlBuilder,
  r: string,
  c: Extract<Clause, { kind: 'param' }>,
  env: ClauseEnv,
): string {
  const { param, modifier, values } = c;
  const anyType = c.anyType === true;
  if (modifier === 'missing') return missingSql(b, r, param, anyType, values[0] ?? '');
  if (param.code === '_id') {
    const test = `${r}.id IN (${b.list(values.map((v) => splitSystem(v).code))})`;
    return modifier === 'not' ? `NOT ${test}` : test;
  }
  if (param.code === '_lastUpdated')
    return or(values.map((v) => datePredicate(b, r, v, env, 'last_updated', 'last_updated')));
  if (param.type === 'composite') return or(values.map((v) => compositeSql(b, r, param, v, env)));
  const table = TABLE_OF[param.type];
  if (table === undefined) throw badRequest(`'${param.code}' cannot be searched`);
  const x = b.alias('x');
  const negate = modifier === 'not' || modifier === 'not-in';
  const sp = spTest(b, x, r, param, anyType);
  const tests = or(values.map((v) => valuePredicate(b, param.type, x, v, modifier, env)));
  const budget = modifier === 'contains' ? ' AND hearth_budget() = 1' : '';
  if (negate || anyType || env.correlate === true || env.walk === true) {
    const exists = `EXISTS (SELECT 1 FROM ${table} ${x} WHERE ${x}.rid = ${r}.rid AND ${sp} AND ${tests}${budget}${probeEnd(env)})`;
    return negate ? `NOT ${exists}` : exists;
  }
  // uncorrelated: the planner can drive the search from the index when the value is selective
  return `${r}.rid IN (SELECT ${x}.rid FROM ${table} ${x} WHERE ${sp} AND ${tests}${budget})`;
}

/** SQL (on resource alias `r`) for one clause: a parameter, a chain or a `_has`. */
export function clauseSql(b: SqlBuilder, clause: Clause, r: string, env: ClauseEnv): string {
  if (clause.kind === 'param') return leafSql(b, r, clause, env);
  const x = b.alias('l');
  const t = b.alias('r');
  const correlate = env.correlate === true || env.walk === true;
  // the chained or _has resources are not the confined rows (but a walk probes them row by row)
  if (env.correlate === true) env = { ...env, correlate: false };
  if (clause.kind === 'chain') {
    const { join, tests } = chainParts(b, clause, x, t, r, env);
    if (clause.anyType === true || correlate)
      return `EXISTS (SELECT 1 FROM ${join} WHERE ${x}.rid = ${r}.rid AND ${tests}${probeEnd(env)})`;
    return `${r}.rid IN (SELECT ${x}.rid FROM ${join} WHERE ${tests})`;
  }
  if (clause.onType !== undefined) {
    const sp = `${spKeyTest(b, x, clause.param)} AND ${x}.ttype = ${b.p(clause.onType)}`;
    if (correlate)
      return `EXISTS (SELECT 1 FROM sp_ref ${x} JOIN resource ${t} ON ${t}.rid = ${x}.rid WHERE ${sp} AND ${x}.tid = ${r}.id AND ${t}.deleted = 0 AND ${clauseSql(b, clause.next, t, env)} AND ${constraintSql(b, clause.type, t, env)}${probeEnd(env)})`;
    return `${r}.id IN (SELECT ${x}.tid FROM sp_ref ${x} JOIN resource ${t} ON ${t}.rid = ${x}.rid WHERE ${sp} AND ${t}.deleted = 0 AND ${clauseSql(b, clause.next, t, env)} AND ${constraintSql(b, clause.type, t, env)})`;
  }
  return `EXISTS (SELECT 1 FROM sp_ref ${x} JOIN resource ${t} ON ${t}.rid = ${x}.rid WHERE ${spKeyTest(b, x, clause.param)} AND ${x}.ttype = ${r}.type AND ${x}.tid = ${r}.id AND ${t}.deleted = 0 AND ${clauseSql(b, clause.next, t, env)} AND ${constraintSql(b, clause.type, t, env)})`;
}

/** A chain's join of references (`x`) to the chained resources (`t`), and its tests on both. */
function chainParts(
  b: SqlBuilder,
  clause: Extract<Clause, { kind: 'chain' }>,
  x: string,
  t: string,
  r: string,
  env: ClauseEnv,
): { join: string; tests: string } {
  const sp = spTest(b, x, r, clause.param, clause.anyType === true);
  const targets = or(
    clause.targets.map((target) =>
      and([
        `${t}.type = ${b.p(target.type)}`,
        clauseSql(b, target.next, t, env),
        constraintSql(b, target.type, t, env),
      ]),
    ),
  );
  return {
    join: `sp_ref ${x} JOIN resource ${t} ON ${t}.type = ${x}.ttype AND ${t}.id = ${x}.tid`,
    tests: `${sp} AND ${t}.deleted = 0 AND ${targets}`,
  };
}

/**
 * The row ids a chain on one type lists, each once (`SELECT DISTINCT x.rid AS rid …`: the rows
 * whose references name a chained resource that matches), for a search it drives alone (see
 * lone-chain.ts); undefined for any other clause.
 */
export function chainListSql(b: SqlBuilder, clause: Clause, env: ClauseEnv): string | undefined {
  if (clause.kind !== 'chain' || clause.anyType === true) return undefined;
  const x = b.alias('l');
  const t = b.alias('r');
  const { join, tests } = chainParts(b, clause, x, t, 'r', env);
  return `SELECT DISTINCT ${x}.rid AS rid FROM ${join} WHERE ${tests}`;
}

export function clausesSql(
  b: SqlBuilder,
  clauses: readonly Clause[],
  r: string,
  env: ClauseEnv,
): string {
  return and(clauses.map((c) => clauseSql(b, c, r, env)));
}

/**
 * The row ids a clause lists when it drives a search (`SELECT x.rid …`), for a parameter on an
 * index table or a `_has` over one (then its inner clause's rows, which bound how many the
 * `_has` lists); undefined for other clauses.
 */
export function clauseRowsSql(b: SqlBuilder, clause: Clause, env: ClauseEnv): string | undefined {
  const leaf = clause.kind === 'has' ? clause.next : clause;
  if (leaf.kind !== 'param' || leaf.anyType === true || leaf.param.type === 'composite')
    return undefined;
  const { param, modifier, values } = leaf;
  if (modifier === 'missing' || modifier === 'not' || modifier === 'not-in') return undefined;
  if (param.code === '_id' || param.code === '_lastUpdated') return undefined;
  const table = TABLE_OF[param.type];
  if (table === undefined) return undefined;
  const x = b.alias('n');
  const sp = spKeyTest(b, x, param);
  const tests = or(values.map((v) => valuePredicate(b, param.type, x, v, modifier, env)));
  return `SELECT ${x}.rid FROM ${table} ${x} WHERE ${sp} AND ${tests}`;
}
