import { FhirError, issue } from '../../fhir/outcome.js';
import type { TypeAccess } from '../../protocol.js';
import { resolveName } from '../query/parse-request.js';
import type { Clause } from '../query/request.js';
import { splitUnescaped } from '../query/values.js';
import { and, or, type SqlBuilder } from './builder.js';
import { clausesSql, type ClauseEnv } from './clause-sql.js';

const MAX_DEPTH = 3;

const invalid = (msg: string) =>
  new FhirError(400, [issue('error', 'invalid', `invalid access constraint: ${msg}`)]);

/** The filter queries of a constraint, parsed strictly (never dropped as unknown). */
function filterClauses(type: string, query: string, env: ClauseEnv): Clause[] {
  const key = `${type}\n${query}`;
  let clauses = env.constraintCache.get(key);
  if (clauses === undefined) {
    clauses = [];
    for (const [name, value] of new URLSearchParams(query)) {
      if (
        name.startsWith('_') &&
        !['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source'].includes(
          name.split(':')[0] ?? '',
        ) &&
        !name.startsWith('_has:')
      )
        throw invalid(`'${name}' cannot be used in a filter`);
      try {
        clauses.push(resolveName(env.registry, type, name, splitUnescaped(value, ',')));
      } catch (e) {
        throw invalid(`${type}?${query}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    env.constraintCache.set(key, clauses);
  }
  return clauses;
}

function accessSql(
  b: SqlBuilder,
  type: string,
  access: TypeAccess,
  r: string,
  env: ClauseEnv,
): string {
  const parts: string[] = [];
  if (access.compartment !== undefined) {
    const [ctype = '', cid = ''] = access.compartment.split('/');
    const k = b.alias('k');
    parts.push(
      `${r}.rid IN (SELECT ${k}.rid FROM compartment ${k} WHERE ${k}.ctype = ${b.p(ctype)} AND ${k}.cid = ${b.p(cid)})`,
    );
  }
  const filters = access.anyOf ?? [];
  if (filters.length > 0) {
    if (env.depth >= MAX_DEPTH) return '0 = 1';
    const inner: ClauseEnv = { ...env, depth: env.depth + 1 };
    parts.push(or(filters.map((q) => clausesSql(b, filterClauses(type, q, env), r, inner))));
  }
  return and(parts);
}

/**
 * SQL (on resource alias `r`) admitting only what the access constraint lets the caller see.
 * `type` undefined: the row's type varies (system search), so each listed type is tested.
 */
export function constraintSql(
  b: SqlBuilder,
  type: string | undefined,
  r: string,
  env: ClauseEnv,
): string {
  const c = env.constraint;
  if (c === undefined) return '1 = 1';
  if (type !== undefined) {
    const access = c.types[type] ?? c.types['*'];
    return access === undefined ? '0 = 1' : accessSql(b, type, access, r, env);
  }
  const listed = Object.keys(c.types).filter((t) => t !== '*');
  const parts = listed.map((t) => {
    const access = c.types[t];
    return access === undefined
      ? '0 = 1'
      : and([`${r}.type = ${b.p(t)}`, accessSql(b, t, access, r, env)]);
  });
  const star = c.types['*'];
  if (star !== undefined) {
    if ((star.anyOf ?? []).length > 0)
      throw invalid("'*' cannot carry filters in a search across types");
    const notListed = listed.length === 0 ? '1 = 1' : `${r}.type NOT IN (${b.list(listed)})`;
    parts.push(and([notListed, accessSql(b, '*', star, r, env)]));
  }
  return or(parts);
}
