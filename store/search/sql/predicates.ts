import { badRequest, FhirError, issue } from '../../fhir/outcome.js';
import type { ParamType } from '../definitions/search-param.js';
import { expand } from '../definitions/value-sets.js';
import { dateRange } from '../indexing/date-range.js';
import { normalizeString } from '../indexing/normalize-string.js';
import { numberRange } from '../indexing/number-range.js';
import { parseReference } from '../indexing/to-rows.js';
import { toCanonical, UCUM_SYSTEM } from '../indexing/ucum.js';
import {
  splitPrefix,
  splitSystem,
  splitUnescaped,
  unescapeValue,
  type Prefix,
} from '../query/values.js';
import { and, likeEscape, or, type SqlBuilder } from './builder.js';

/** What a value predicate needs besides the value. */
export interface PredicateEnv {
  /** The server's FHIR base URL: absolute references to it are matched as relative ones. */
  baseUrl: string;
  now: number;
}

const MAX_VALUESET_CODES = 10_000;

/** Row-level test of a date row [x.lo, x.hi] against a FHIR date value with a prefix (R4 §2.1.1.5). */
function datePredicate(
  b: SqlBuilder,
  x: string,
  raw: string,
  env: PredicateEnv,
  lo = 'lo',
  hi = 'hi',
): string {
  const { prefix, value } = splitPrefix(unescapeValue(raw));
  const q = dateRange(value);
  if (q === undefined) throw badRequest(`'${raw}' is not a valid date`);
  const L = `${x}.${lo}`;
  const H = `${x}.${hi}`;
  const contained = () => `(${L} >= ${b.p(q.lo)} AND ${H} <= ${b.p(q.hi)})`;
  switch (prefix) {
    case 'eq':
      return contained();
    case 'ne':
      return `NOT ${contained()}`;
    case 'gt':
      return `${H} > ${b.p(q.hi)}`;
    case 'lt':
      return `${L} < ${b.p(q.lo)}`;
    // ge / le: the leading bound is implied by both alternatives (rows hold lo <= hi); it makes
    // the test one index range instead of a union of two
    case 'ge':
      return `(${H} >= ${b.p(q.lo)} AND (${H} > ${b.p(q.hi)} OR ${contained()}))`;
    case 'le':
      return `(${L} <= ${b.p(q.hi)} AND (${L} < ${b.p(q.lo)} OR ${contained()}))`;
    case 'sa':
      return `${L} > ${b.p(q.hi)}`;
    case 'eb':
      return `${H} < ${b.p(q.lo)}`;
    case 'ap': {
      const gap = Math.max(Math.abs(env.now - (q.lo + q.hi) / 2) * 0.1, 86_400_000);
      return `(${L} <= ${b.p(Math.round(q.hi + gap))} AND ${H} >= ${b.p(Math.round(q.lo - gap))})`;
    }
  }
}

/** Number/quantity rows hold [lo, hi] (a point for a plain value); `q` is the search value's precision range. */
function orderedPredicate(
  b: SqlBuilder,
  L: string,
  H: string,
  prefix: Prefix,
  v: number,
  qlo: number,
  qhi: number,
): string {
  switch (prefix) {
    case 'eq':
      return `(${L} >= ${b.p(qlo)} AND ${H} < ${b.p(qhi)})`;
    case 'ne':
      return `NOT (${L} >= ${b.p(qlo)} AND ${H} < ${b.p(qhi)})`;
    case 'gt':
      return `${H} > ${b.p(v)}`;
    case 'lt':
      return `${L} < ${b.p(v)}`;
    case 'ge':
      return `${H} >= ${b.p(v)}`;
    case 'le':
      return `${L} <= ${b.p(v)}`;
    case 'sa':
      return `${L} > ${b.p(v)}`;
    case 'eb':
      return `${H} < ${b.p(v)}`;
    case 'ap': {
      const d = Math.abs(v) * 0.1;
      return `(${L} <= ${b.p(v + d)} AND ${H} >= ${b.p(v - d)})`;
    }
  }
}

function numberPredicate(b: SqlBuilder, x: string, raw: string): string {
  const { prefix, value } = splitPrefix(unescapeValue(raw));
  const r = numberRange(value);
  if (r === undefined) throw badRequest(`'${raw}' is not a valid number`);
  return orderedPredicate(b, `${x}.lo`, `${x}.hi`, prefix, r.value, r.lo, r.hi);
}

function quantityPredicate(b: SqlBuilder, x: string, raw: string): string {
  const parts = splitUnescaped(raw, '|').map(unescapeValue);
  const [num = '', system, code] = parts;
  if (parts.length !== 1 && parts.length !== 3)
    throw badRequest(`'${raw}' is not a valid quantity`);
  const { prefix, value } = splitPrefix(num);
  const r = numberRange(value);
  if (r === undefined) throw badRequest(`'${raw}' is not a valid quantity`);
  if (code === undefined || code === '') {
    const sys = system !== undefined && system !== '' ? `${x}.system = ${b.p(system)} AND ` : '';
    return `(${sys}${orderedPredicate(b, `${x}.lo`, `${x}.hi`, prefix, r.value, r.lo, r.hi)})`;
  }
  if (system === UCUM_SYSTEM || system === '') {
    const c = toCanonical(code, r.value);
    const clo = toCanonical(code, r.lo);
    const chi = toCanonical(code, r.hi);
    if (c !== undefined && clo !== undefined && chi !== undefined) {
      const canonical = `(${x}.cunit = ${b.p(c.unit)} AND ${orderedPredicate(b, `${x}.clo`, `${x}.chi`, prefix, c.value, clo.value, chi.value)})`;
      if (system === UCUM_SYSTEM) return canonical;
      return `(${canonical} OR ((${x}.code = ${b.p(code)} OR ${x}.unit = ${b.p(code)}) AND ${orderedPredicate(b, `${x}.lo`, `${x}.hi`, prefix, r.value, r.lo, r.hi)}))`;
    }
  }
  const unit =
    system === undefined || system === ''
      ? `(${x}.code = ${b.p(code)} OR ${x}.unit = ${b.p(code)})`
      : `${x}.system = ${b.p(system)} AND ${x}.code = ${b.p(code)}`;
  return `(${unit} AND ${orderedPredicate(b, `${x}.lo`, `${x}.hi`, prefix, r.value, r.lo, r.hi)})`;
}

function stringPredicate(
  b: SqlBuilder,
  x: string,
  raw: string,
  modifier: string | undefined,
): string {
  const value = unescapeValue(raw);
  if (modifier === 'exact') return `${x}.exact = ${b.p(value)}`;
  const norm = normalizeString(value);
  if (modifier === 'contains') return `${x}.norm LIKE ${b.p(`%${likeEscape(norm)}%`)} ESCAPE '\\'`;
  return `(${x}.norm >= ${b.p(norm)} AND ${x}.norm < ${b.p(`${norm}\uffff`)})`;
}

function tokenPredicate(
  b: SqlBuilder,
  x: string,
  raw: string,
  modifier: string | undefined,
  cols = { system: 'system', code: 'code' },
): string {
  if (modifier === 'text') {
    const norm = normalizeString(unescapeValue(raw));
    return `(${x}.text >= ${b.p(norm)} AND ${x}.text < ${b.p(`${norm}\uffff`)})`;
  }
  if (modifier === 'in' || modifier === 'not-in') {
    const groups = expand(unescapeValue(raw));
    const total = groups.reduce((n, g) => n + g.codes.length, 0);
    if (total > MAX_VALUESET_CODES)
      throw new FhirError(400, [
        issue('error', 'too-costly', `value set ${raw} has more than ${MAX_VALUESET_CODES} codes`),
      ]);
    return or(
      groups
        .filter((g) => g.codes.length > 0)
        .map(
          (g) =>
            `((${x}.${cols.system} = ${b.p(g.system)} OR ${x}.${cols.system} IS NULL) AND ${x}.${cols.code} IN (${b.list(g.codes)}))`,
        ),
    );
  }
  const { system, code } = splitSystem(raw);
  const S = `${x}.${cols.system}`;
  const C = `${x}.${cols.code}`;
  if (system === undefined) return `${C} = ${b.p(code)}`;
  if (system === '') return `(${S} IS NULL AND ${C} = ${b.p(code)})`;
  if (code === '') return `${S} = ${b.p(system)}`;
  return `(${S} = ${b.p(system)} AND ${C} = ${b.p(code)})`;
}

function referencePredicate(
  b: SqlBuilder,
  x: string,
  raw: string,
  modifier: string | undefined,
  env: PredicateEnv,
): string {
  if (modifier === 'identifier')
    return tokenPredicate(b, x, raw, undefined, { system: 'isys', code: 'ival' });
  let value = unescapeValue(raw);
  const base = `${env.baseUrl}/`;
  if (value.startsWith(base)) value = value.slice(base.length);
  const parsed = parseReference(value);
  if (parsed !== undefined && parsed.base === undefined) {
    if (modifier !== undefined && modifier !== parsed.type) return '0 = 1';
    return `(${x}.ttype = ${b.p(parsed.type)} AND ${x}.tid = ${b.p(parsed.id)})`;
  }
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(value)) {
    const t = modifier === undefined ? '' : `${x}.ttype = ${b.p(modifier)} AND `;
    return `(${t}${x}.tid = ${b.p(value)})`;
  }
  return `${x}.url = ${b.p(value.split('|')[0] ?? value)}`;
}

function uriPredicate(b: SqlBuilder, x: string, raw: string, modifier: string | undefined): string {
  const value = unescapeValue(raw);
  if (modifier === 'below')
    return `(${x}.uri = ${b.p(value)} OR ${x}.uri LIKE ${b.p(`${likeEscape(value.replace(/\/$/, ''))}/%`)} ESCAPE '\\')`;
  if (modifier === 'above')
    return `(${x}.uri = ${b.p(value)} OR (${b.p(value)} LIKE ${x}.uri || '/%'))`;
  return `${x}.uri = ${b.p(value)}`;
}

/** The row-level SQL test (on alias `x` of the parameter type's table) for one search value. */
export function valuePredicate(
  b: SqlBuilder,
  type: ParamType,
  x: string,
  raw: string,
  modifier: string | undefined,
  env: PredicateEnv,
): string {
  switch (type) {
    case 'string':
      return stringPredicate(b, x, raw, modifier);
    case 'token':
      return tokenPredicate(
        b,
        x,
        raw,
        modifier === 'not' || modifier === 'not-in'
          ? modifier === 'not'
            ? undefined
            : 'in'
          : modifier,
      );
    case 'date':
      return datePredicate(b, x, raw, env);
    case 'reference':
      return referencePredicate(b, x, raw, modifier, env);
    case 'quantity':
      return quantityPredicate(b, x, raw);
    case 'number':
      return numberPredicate(b, x, raw);
    case 'uri':
      return uriPredicate(b, x, raw, modifier);
    default:
      throw badRequest(`parameters of type ${type} cannot be searched this way`);
  }
}

export { and, datePredicate, tokenPredicate };
