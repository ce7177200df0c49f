import type { SqlValue } from '../../engines/engine.js';
import { badRequest } from '../../fhir/outcome.js';
import type { SearchRegistry } from '../definitions/registry.js';
import type { SortRule } from '../query/request.js';
import type { SqlBuilder } from './builder.js';
import { spKeyTest, TABLE_OF } from './tables.js';

/** One sort key: an SQL expression on the resource alias, and its direction. */
export interface SortKey {
  expr: string;
  desc: boolean;
  /** False for columns of `resource` that are never NULL (`rid`, `id`, `last_updated`). */
  nullable: boolean;
}

const MIN_COL: Record<string, [string, string]> = {
  sp_string: ['norm', 'norm'],
  sp_token: ['code', 'code'],
  sp_date: ['lo', 'hi'],
  sp_ref: ['tid', 'tid'],
  sp_quantity: ['lo', 'hi'],
  sp_number: ['lo', 'hi'],
  sp_uri: ['uri', 'uri'],
};

/**
 * The sort keys of `_sort` (multi-valued elements sort by their minimum ascending and maximum
 * descending), ending with the row id as the stable tie-breaker. `type` undefined: system search.
 */
export function sortKeys(
  b: SqlBuilder,
  registry: SearchRegistry,
  rules: readonly SortRule[],
  type: string | undefined,
  r: string,
): SortKey[] {
  const keys: SortKey[] = [];
  for (const rule of rules) {
    if (rule.code === '_id') keys.push({ expr: `${r}.id`, desc: rule.desc, nullable: false });
    else if (rule.code === '_lastUpdated')
      keys.push({ expr: `${r}.last_updated`, desc: rule.desc, nullable: false });
    else {
      const param = registry.get(type ?? 'Patient', rule.code);
      const table = param === undefined ? undefined : TABLE_OF[param.type];
      const cols = table === undefined ? undefined : MIN_COL[table];
      if (param === undefined || table === undefined || cols === undefined)
        throw badRequest(`cannot sort by '${rule.code}'`);
      const sp =
        type === undefined
          ? `s.sp = ${r}.type || ${b.p(`.${param.code}`)}`
          : spKeyTest(b, 's', param);
      const fn = rule.desc ? `MAX(s.${cols[1]})` : `MIN(s.${cols[0]})`;
      keys.push({
        expr: `(SELECT ${fn} FROM ${table} s WHERE s.rid = ${r}.rid AND ${sp})`,
        desc: rule.desc,
        nullable: true,
      });
    }
  }
  keys.push({ expr: `${r}.rid`, desc: false, nullable: false });
  return keys;
}

/**
 * ORDER BY text over the selected key columns k0…kn (prefixed `${s}.`); NULLs last in both
 * directions. `reverse` flips every key. A key that is never NULL orders by its column alone, so
 * an index or the row id order can serve the ORDER BY and stop at the LIMIT (no sort of every
 * match).
 */
export function orderBy(keys: readonly SortKey[], reverse: boolean, s = ''): string {
  return keys
    .map((k, i) => {
      const desc = k.desc !== reverse;
      const col = `${s}k${i}`;
      const dir = `${col} ${desc ? 'DESC' : 'ASC'}`;
      return k.nullable ? `(${col} IS NULL) ${reverse ? 'DESC' : 'ASC'}, ${dir}` : dir;
    })
    .join(', ');
}

/**
 * Keyset condition: rows strictly after (or, `reverse`, before) the row whose key values are
 * `values`, in the order of `keys`. NULL keys sort last.
 */
export function afterSql(
  b: SqlBuilder,
  keys: readonly SortKey[],
  values: readonly SqlValue[],
  reverse: boolean,
): string {
  const alts: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === undefined) continue;
    const eqs = keys.slice(0, i).map((_, j) => {
      const v = values[j] ?? null;
      return v === null ? `k${j} IS NULL` : `k${j} = ${b.p(v)}`;
    });
    const v = values[i] ?? null;
    const desc = k.desc !== reverse;
    let after: string;
    if (!reverse)
      after =
        v === null
          ? '0 = 1'
          : k.nullable
            ? `(k${i} ${desc ? '<' : '>'} ${b.p(v)} OR k${i} IS NULL)`
            : `k${i} ${desc ? '<' : '>'} ${b.p(v)}`;
    else after = v === null ? `k${i} IS NOT NULL` : `k${i} ${desc ? '<' : '>'} ${b.p(v)}`;
    alts.push(`(${[...eqs, after].join(' AND ')})`);
  }
  return alts.length === 0 ? '1 = 1' : `(${alts.join(' OR ')})`;
}
