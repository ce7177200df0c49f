import { rowKeys, type ParamType, type SearchParam } from '../definitions/search-param.js';
import type { SqlBuilder } from './builder.js';

export const TABLE_OF: Partial<Record<ParamType, string>> = {
  string: 'sp_string',
  token: 'sp_token',
  date: 'sp_date',
  reference: 'sp_ref',
  quantity: 'sp_quantity',
  number: 'sp_number',
  uri: 'sp_uri',
};

/**
 * `x` is one of `param`'s rows: `x.sp` is one of its keys (its union's members' for a union), or,
 * for a reference parameter that selects another's references to one type (`rowsOf`), `x` is
 * that parameter's row to that type.
 */
export function spKeyTest(b: SqlBuilder, x: string, param: SearchParam, suffix = ''): string {
  if (param.rowsOf !== undefined)
    return `(${x}.sp = ${b.p(param.rowsOf.param.key)} AND ${x}.ttype = ${b.p(param.rowsOf.targetType)})`;
  const keys = rowKeys(param);
  return keys.length === 1
    ? `${x}.sp = ${b.p(`${keys[0] ?? ''}${suffix}`)}`
    : `${x}.sp IN (${b.list(keys.map((k) => k + suffix))})`;
}
