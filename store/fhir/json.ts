import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';
import { badRequest, FhirError, issue } from './outcome.js';

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

/** Deepest nesting a request body may have (FHIR resources need far less). */
export const MAX_DEPTH = 100;

/** A number token: a plain number when its text survives the round trip, else its exact text. */
export function parseNumber(text: string): number | LosslessNumber {
  const n = Number(text);
  return String(n) === text ? n : new LosslessNumber(text);
}

/** Throws a 400 when `text` nests deeper than MAX_DEPTH (checked before parsing, without recursion). */
function checkDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > MAX_DEPTH) throw badRequest(`JSON nests deeper than ${MAX_DEPTH} levels`);
    } else if (c === 125 || c === 93) depth--;
  }
}

/** Parses a request body; malformed or too deep JSON is a 400 OperationOutcome. */
export function parseJson(text: string): JsonValue {
  checkDepth(text);
  try {
    return parse(text, null, parseNumber) as JsonValue;
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'malformed JSON';
    throw new FhirError(400, [issue('error', 'structure', `malformed JSON: ${reason}`)]);
  }
}

/** Serialises without whitespace, writing each lossless number's original text. */
export function stringifyJson(value: unknown): string {
  const out = stringify(value);
  if (out === undefined) throw new Error('value cannot be serialised');
  return out;
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

export function isJsonObject(value: unknown): value is JsonObject {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value)
  );
}
