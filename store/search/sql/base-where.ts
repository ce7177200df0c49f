import { FhirError, issue } from '../../fhir/outcome.js';
import { dateRange } from '../indexing/date-range.js';
import type { SearchRequest } from '../query/request.js';
import type { SearchInput } from '../search-input.js';
import { and, or, type SqlBuilder } from './builder.js';
import { clausesSql, type ClauseEnv } from './clause-sql.js';
import { constraintSql } from './constraint-sql.js';

/**
 * The WHERE of a search on `resource r`: current rows, the types searched with their clauses and
 * access constraint, a Patient compartment, or `$everything`'s set (the compartment plus what it
 * references) with its `start` / `end` / `_since`.
 */
export function baseWhere(
  b: SqlBuilder,
  input: SearchInput,
  req: SearchRequest,
  env: ClauseEnv,
  extra: [string, string][],
): string {
  const r = 'r';
  // hearth_budget(): the engines' in-query time budget check, evaluated per scanned row
  const parts = [`${r}.deleted = 0`, 'hearth_budget() = 1'];
  if (req.types.length === 1 && input.types.length === 1) {
    const t = req.types[0] ?? '';
    // Confined to one patient's compartment (a compartment search or a patient-scoped caller):
    // the compartment's row ids drive the search and every other clause tests each of them
    // through the (rid, sp) indexes, rather than building its own list of every match in the
    // store (a patient's laboratory Observations: 1.6 → 0.07 ms on SQLite, which otherwise drove
    // from all 3,462 laboratory Observations).
    const access = env.constraint?.types[t] ?? env.constraint?.types['*'];
    const confined = input.compartment !== undefined || access?.compartment !== undefined;
    const scoped: ClauseEnv = confined ? { ...env, correlate: true } : env;
    parts.push(
      `${r}.type = ${b.p(t)}`,
      clausesSql(b, req.clauses.get(t) ?? [], r, scoped),
      constraintSql(b, t, r, scoped),
    );
  } else if (req.types.length > 0) {
    parts.push(
      or(
        req.types.map((t) =>
          and([
            `${r}.type = ${b.p(t)}`,
            clausesSql(b, req.clauses.get(t) ?? [], r, env),
            constraintSql(b, t, r, env),
          ]),
        ),
      ),
    );
  } else {
    parts.push(
      clausesSql(b, req.clauses.get('*') ?? [], r, env),
      constraintSql(b, undefined, r, env),
    );
  }
  if (input.compartment !== undefined) {
    parts.push(
      `${r}.rid IN (SELECT kc.rid FROM compartment kc WHERE kc.ctype = 'Patient' AND kc.cid = ${b.p(input.compartment.id)})`,
    );
  }
  if (input.everything !== undefined) {
    const id = input.everything.id;
    parts.push(`(${r}.rid IN (SELECT ke.rid FROM compartment ke WHERE ke.ctype = 'Patient' AND ke.cid = ${b.p(id)})
      OR ${r}.rid IN (SELECT te.rid FROM compartment ke JOIN sp_ref xe ON xe.rid = ke.rid JOIN resource te ON te.type = xe.ttype AND te.id = xe.tid
        WHERE ke.ctype = 'Patient' AND ke.cid = ${b.p(id)}))`);
    for (const [name, value] of extra) {
      const range = dateRange(value);
      if (range === undefined)
        throw new FhirError(400, [issue('error', 'invalid', `${name} must be a date`, [name])]);
      if (name === '_since') parts.push(`${r}.last_updated >= ${b.p(range.lo)}`);
      else {
        const clinical = `EXISTS (SELECT 1 FROM sp_date de WHERE de.rid = ${r}.rid AND de.sp = ${r}.type || '.date' AND de.${name === 'start' ? 'hi' : 'lo'} ${name === 'start' ? '>=' : '<='} ${b.p(name === 'start' ? range.lo : range.hi)})`;
        parts.push(
          `(${r}.type = 'Patient' OR NOT EXISTS (SELECT 1 FROM sp_date dn WHERE dn.rid = ${r}.rid AND dn.sp = ${r}.type || '.date') OR ${clinical})`,
        );
      }
    }
  }
  return and(parts);
}
