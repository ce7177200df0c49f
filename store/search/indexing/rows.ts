/** The rows one resource contributes to the index tables (see schema.ts). */

export interface StringRow {
  sp: string;
  grp: number | null;
  norm: string;
  exact: string;
}
export interface TokenRow {
  sp: string;
  grp: number | null;
  system: string | null;
  code: string | null;
  /** Normalised display / text, for `:text`. */
  text: string | null;
}
export interface DateRow {
  sp: string;
  grp: number | null;
  lo: number;
  hi: number;
}
export interface ReferenceRow {
  sp: string;
  grp: number | null;
  ttype: string | null;
  tid: string | null;
  /** Absolute URL, canonical (without `|version`) or urn as written. */
  url: string | null;
  /** Reference.identifier, for `:identifier`. */
  isys: string | null;
  ival: string | null;
}
export interface QuantityRow {
  sp: string;
  grp: number | null;
  lo: number;
  hi: number;
  system: string | null;
  code: string | null;
  unit: string | null;
  /** UCUM base-unit copy (clo/chi/cunit), when the quantity is UCUM. */
  clo: number | null;
  chi: number | null;
  cunit: string | null;
}
export interface NumberRow {
  sp: string;
  grp: number | null;
  lo: number;
  hi: number;
}
export interface UriRow {
  sp: string;
  grp: number | null;
  uri: string;
}

export interface IndexRows {
  string: StringRow[];
  token: TokenRow[];
  date: DateRow[];
  reference: ReferenceRow[];
  quantity: QuantityRow[];
  number: NumberRow[];
  uri: UriRow[];
}

export function emptyRows(): IndexRows {
  return { string: [], token: [], date: [], reference: [], quantity: [], number: [], uri: [] };
}
