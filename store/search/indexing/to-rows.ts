import type { ParamType } from '../definitions/search-param.js';
import { isResourceType } from '../definitions/resource-types.js';
import type { Extracted } from './compile-expression.js';
import { dateRange, MAX_MS, MIN_MS } from './date-range.js';
import { normalizeString } from './normalize-string.js';
import type { IndexRows } from './rows.js';
import { toCanonical, UCUM_SYSTEM } from './ucum.js';

/**
 * Turns the values an expression selected into index rows of the parameter's type, following
 * R4 search.html (what each data type means for each parameter type).
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const strs = (v: unknown): string[] =>
  Array.isArray(v)
    ? v.flatMap((x) => (typeof x === 'string' ? [x] : []))
    : typeof v === 'string'
      ? [v]
      : [];
export const OPEN_LOW = -1e300;
export const OPEN_HIGH = 1e300;
const MAX_STRING = 1024;

function addString(rows: IndexRows, sp: string, grp: number | null, s: string): void {
  const exact = s.slice(0, MAX_STRING);
  rows.string.push({ sp, grp, norm: normalizeString(exact), exact });
}

function toStrings(rows: IndexRows, sp: string, grp: number | null, v: Extracted): void {
  const value = v.value;
  if (typeof value === 'string') {
    addString(rows, sp, grp, value);
    return;
  }
  if (!isObj(value)) return;
  const parts =
    v.type === 'HumanName' || 'family' in value || 'given' in value
      ? ['family', 'given', 'prefix', 'suffix', 'text']
      : v.type === 'Address' || 'line' in value || 'city' in value
        ? ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text']
        : Object.keys(value);
  for (const p of parts) for (const s of strs(value[p])) addString(rows, sp, grp, s);
}

function addToken(
  rows: IndexRows,
  sp: string,
  grp: number | null,
  system: string | null,
  code: string | null,
  text: string | null,
): void {
  // `:text` applies to a token parameter, never to a composite's component (grp set): the rows of
  // components carry no text, and stay out of the text index (partial, see schema.ts). A
  // component's row without a code or system (a CodeableConcept's text, a coding with only a
  // display) would then hold nothing a composite search can match: none is written. In 100 demo
  // patients those were 36,000 of 483,000 index rows (an Observation's code.text under
  // code-value-quantity and combo-code-value-quantity).
  if (grp !== null) {
    if (system !== null || code !== null) rows.token.push({ sp, grp, system, code, text: null });
    return;
  }
  const norm = text === null ? null : normalizeString(text);
  rows.token.push({ sp, grp, system, code, text: norm });
}

function toTokens(rows: IndexRows, sp: string, grp: number | null, v: Extracted): void {
  const value = v.value;
  if (typeof value === 'boolean') {
    addToken(rows, sp, grp, null, String(value), null);
    return;
  }
  if (typeof value === 'string' || typeof value === 'number') {
    addToken(rows, sp, grp, null, String(value), null);
    return;
  }
  if (!isObj(value)) return;
  if (
    v.type === 'CodeableConcept' ||
    Array.isArray(value.coding) ||
    (v.type === undefined && 'text' in value && !('value' in value))
  ) {
    const codings = Array.isArray(value.coding) ? (value.coding as unknown[]) : [];
    const first = rows.token.length;
    for (const c of codings)
      if (isObj(c)) addToken(rows, sp, grp, str(c.system), str(c.code), str(c.display));
    const text = str(value.text);
    // The text has a row of its own (no system or code) unless a coding's row holds the same
    // normalised text as its display: every search on that row (`:text` only reads the text)
    // finds the resource already. Generated and Synthea data repeat the display as the text, a
    // quarter of all token rows.
    if (text === null || grp !== null) return; // a component's row never holds text
    const norm = normalizeString(text);
    for (let i = first; i < rows.token.length; i++) if (rows.token[i]?.text === norm) return;
    rows.token.push({ sp, grp, system: null, code: null, text: norm });
    return;
  }
  if (v.type === 'Identifier' || (v.type === undefined && 'value' in value && !('code' in value))) {
    const type = isObj(value.type) ? str(value.type.text) : null;
    addToken(rows, sp, grp, str(value.system), str(value.value), type);
    return;
  }
  if (v.type === 'ContactPoint') {
    addToken(rows, sp, grp, str(value.system), str(value.value), null);
    return;
  }
  if ('code' in value || 'system' in value) {
    addToken(rows, sp, grp, str(value.system), str(value.code), str(value.display));
    return;
  }
}

function toDates(rows: IndexRows, sp: string, grp: number | null, v: Extracted): void {
  const value = v.value;
  const push = (lo: number, hi: number) => rows.date.push({ sp, grp, lo, hi });
  if (typeof value === 'string') {
    const r = dateRange(value);
    if (r !== undefined) push(r.lo, r.hi);
    return;
  }
  if (!isObj(value)) return;
  if ('start' in value || 'end' in value) {
    const s = typeof value.start === 'string' ? dateRange(value.start) : undefined;
    const e = typeof value.end === 'string' ? dateRange(value.end) : undefined;
    if (s !== undefined || e !== undefined) push(s?.lo ?? MIN_MS, e?.hi ?? MAX_MS);
    return;
  }
  for (const ev of strs(value.event))
    toDates(rows, sp, grp, { type: 'dateTime', value: ev, node: ev });
  const repeat = value.repeat;
  if (isObj(repeat) && isObj(repeat.boundsPeriod))
    toDates(rows, sp, grp, { type: 'Period', value: repeat.boundsPeriod, node: null });
}

// The `/_history/…` tail as search's `resolve() is T` test (definitions/split-expression.ts) reads it.
const REF = /^(?:(.*)\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/.*)?$/;

/** `Patient/1`, `http://x/fhir/Patient/1`, `Patient/1/_history/2` → type and id. */
export function parseReference(
  ref: string,
): { type: string; id: string; base: string | undefined } | undefined {
  const m = REF.exec(ref);
  if (m === null || m[2] === undefined || m[3] === undefined || !isResourceType(m[2]))
    return undefined;
  return { type: m[2], id: m[3], base: m[1] };
}

function toReferences(rows: IndexRows, sp: string, grp: number | null, v: Extracted): void {
  const value = v.value;
  const push = (
    ttype: string | null,
    tid: string | null,
    url: string | null,
    isys: string | null,
    ival: string | null,
  ): void => {
    rows.reference.push({ sp, grp, ttype, tid, url, isys, ival });
  };
  if (typeof value === 'string') {
    const parsed = parseReference(value);
    if (parsed !== undefined && parsed.base === undefined) {
      push(parsed.type, parsed.id, null, null, null);
      return;
    }
    push(parsed?.type ?? null, parsed?.id ?? null, value.split('|')[0] ?? value, null, null);
    return;
  }
  if (!isObj(value)) return;
  const ref = str(value.reference);
  const parsed = ref === null || ref.startsWith('#') ? undefined : parseReference(ref);
  if (ref !== null && !ref.startsWith('#')) {
    if (parsed !== undefined)
      push(parsed.type, parsed.id, parsed.base === undefined ? null : ref, null, null);
    else push(null, null, ref, null, null);
  }
  if (isObj(value.identifier)) {
    // With the type its reference names (never an id: it names no resource by itself), so a
    // parameter that reads this one's references to one type (`patient` of `subject`, see
    // rowsOf in definitions/search-param.ts) finds `:identifier` where its own rows would have.
    const ident = value.identifier;
    push(parsed?.type ?? null, null, null, str(ident.system), str(ident.value));
  }
}

function quantityRow(
  rows: IndexRows,
  sp: string,
  grp: number | null,
  lo: number,
  hi: number,
  q: Obj,
): void {
  const system = str(q.system) ?? (typeof q.currency === 'string' ? 'urn:iso:std:iso:4217' : null);
  const code = str(q.code) ?? str(q.currency);
  let clo: number | null = null;
  let chi: number | null = null;
  let cunit: string | null = null;
  if (system === UCUM_SYSTEM && code !== null) {
    const a = toCanonical(code, lo);
    const b = toCanonical(code, hi);
    if (a !== undefined && b !== undefined) {
      clo = lo === OPEN_LOW ? OPEN_LOW : a.value;
      chi = hi === OPEN_HIGH ? OPEN_HIGH : b.value;
      cunit = a.unit;
    }
  }
  rows.quantity.push({ sp, grp, lo, hi, system, code, unit: str(q.unit), clo, chi, cunit });
}

function toQuantities(rows: IndexRows, sp: string, grp: number | null, v: Extracted): void {
  const value = v.value;
  if (typeof value === 'number') {
    quantityRow(rows, sp, grp, value, value, {});
    return;
  }
  if (!isObj(value)) return;
  if (typeof value.value === 'number') {
    quantityRow(rows, sp, grp, value.value, value.value, value);
    return;
  }
  if (isObj(value.low) || isObj(value.high)) {
    const low = isObj(value.low) ? value.low : {};
    const high = isObj(value.high) ? value.high : {};
    const lo = typeof low.value === 'number' ? low.value : OPEN_LOW;
    const hi = typeof high.value === 'number' ? high.value : OPEN_HIGH;
    quantityRow(rows, sp, grp, lo, hi, typeof low.value === 'number' ? low : high);
  }
}

function toNumbers(rows: IndexRows, sp: string, grp: number | null, v: Extracted): void {
  const value = v.value;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (Number.isFinite(n)) rows.number.push({ sp, grp, lo: n, hi: n });
}

function toUris(rows: IndexRows, sp: string, grp: number | null, v: Extracted): void {
  if (typeof v.value === 'string' && v.value.length > 0) rows.uri.push({ sp, grp, uri: v.value });
}

const CONVERTERS: Partial<
  Record<ParamType, (r: IndexRows, sp: string, g: number | null, v: Extracted) => void>
> = {
  string: toStrings,
  token: toTokens,
  date: toDates,
  reference: toReferences,
  quantity: toQuantities,
  number: toNumbers,
  uri: toUris,
};

/** Appends the rows of `values` for a parameter of `type` keyed `sp`. */
export function addRows(
  rows: IndexRows,
  type: ParamType,
  sp: string,
  grp: number | null,
  values: Extracted[],
): void {
  const convert = CONVERTERS[type];
  if (convert === undefined) return;
  for (const v of values) convert(rows, sp, grp, v);
}
