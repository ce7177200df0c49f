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

/** `x.sp` is one of the keys of `param`'s rows (its union's members' for a union). */
export function spKeyTest(b: SqlBuilder, x: string, param: SearchParam, suffix = ''): string {
  const keys = rowKeys(param);
  return keys.length === 1
    ? `${x}.sp = ${b.p(`${keys[0] ?? ''}${suffix}`)}`
    : `${x}.sp IN (${b.list(keys.map((k) => k + suffix))})`;
}
