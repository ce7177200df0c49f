import type { ParamType } from '../definitions/search-param.js';

export const TABLE_OF: Partial<Record<ParamType, string>> = {
  string: 'sp_string',
  token: 'sp_token',
  date: 'sp_date',
  reference: 'sp_ref',
  quantity: 'sp_quantity',
  number: 'sp_number',
  uri: 'sp_uri',
};
