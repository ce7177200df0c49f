import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';
import { countMembers, scanJson } from './json-scan.js';
import { FhirError, issue } from './outcome.js';

/**
 * Lossless JSON: numbers whose text would change through a JavaScript number (`0.010`, `1e2`,
 * `12345678901234567890`) are kept as their exact text, so what a client sent is what is stored
 * and returned. Other numbers stay plain numbers.
 */

export type JsonValue =
  null | boolean | number | string | LosslessNumber | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** A number token: a plain number when its text survives the round trip, else its exact text. */
export function parseNumber(text: string): number | LosslessNumber {
  const n = Number(text);
  return String(n) === text ? n : new LosslessNumber(text);
}

/**
 * Parses a request body; malformed or too deep JSON is a 400 OperationOutcome.
 *
 * The result is always what lossless-json gives (`parseNumber` numbers, a 400 on a repeated key
 * with a different value). Most bodies have no number a JavaScript number would change and no
 * repeated key, and for them V8's JSON.parse gives that same value ~7× faster: one scan of the
 * text tells (it counts object members and checks each number's text), the rest take lossless-json.
 */
export function parseJson(text: string): JsonValue {
  const scan = scanJson(text);
  if (!scan.lossyNumber) {
    const value = nativeParse(text);
    if (value !== undefined && countMembers(value) === scan.members) return value;
  }
  try {
    return parse(text, null, parseNumber) as JsonValue;
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'malformed JSON';
    throw new FhirError(400, [issue('error', 'structure', `malformed JSON: ${reason}`)]);
  }
}

/** JSON.parse, or undefined where it fails (lossless-json then gives the error's wording). */
function nativeParse(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

/** Serialises without whitespace, writing each lossless number's original text. */
export function stringifyJson(value: unknown): string {
  // without lossless numbers V8's JSON.stringify writes the same text, several times faster
  const out = hasLosslessNumber(value) ? stringify(value) : JSON.stringify(value);
  if (out === undefined) throw new Error('value cannot be serialised');
  return out;
}

/** True when `value` holds a LosslessNumber (or a bigint) anywhere. */
function hasLosslessNumber(value: unknown): boolean {
  if (typeof value === 'bigint') return true;
  if (typeof value !== 'object' || value === null) return false;
  if (isLosslessNumber(value)) return true;
  if (Array.isArray(value)) return value.some(hasLosslessNumber);
  for (const k of Object.keys(value))
    if (hasLosslessNumber((value as Record<string, unknown>)[k])) return true;
  return false;
}

/** A copy with lossless numbers turned into JavaScript numbers (for validators and FHIRPath). */
export function toPlain(value: unknown): unknown {
  if (isLosslessNumber(value)) return Number(value.value);
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlain(v);
    return out;
  }
  return value;
}

/** True where `toPlain(value)` would differ from `value`: a LosslessNumber or a member named __proto__. */
function needsPlainCopy(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (isLosslessNumber(value)) return true;
  if (Array.isArray(value)) return value.some(needsPlainCopy);
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (k === '__proto__' || needsPlainCopy(obj[k])) return true;
  return false;
}

/**
 * `toPlain(value)` for a reader that never changes what it is given (validators, indexing): `value`
 * itself where that copy would be equal to it, which is the common case (parsed JSON without a
 * number that needs its exact text and without a `__proto__` member).
 */
export function plainView(value: unknown): unknown {
  return needsPlainCopy(value) ? toPlain(value) : value;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value)
  );
}
