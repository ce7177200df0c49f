import { badRequest } from './outcome.js';

/** What one pass over JSON text finds outside its strings (see {@link scanJson}). */
export interface JsonScan {
  /** Object members (`:` outside strings): equals the parsed keys when no key repeats. */
  members: number;
  /** A number whose text a JavaScript number would change (`0.010`, `1e2`, `-0`). */
  lossyNumber: boolean;
}

/** Deepest nesting a request body may have (FHIR resources need far less). */
export const MAX_DEPTH = 100;

const isNumberChar = (c: number): boolean =>
  (c >= 48 && c <= 57) || c === 46 || c === 43 || c === 45 || c === 101 || c === 69;

/**
 * One pass over JSON text, without recursion: throws a 400 when it nests deeper than MAX_DEPTH
 * (before any parser sees it), counts object members and finds numbers that would not survive a
 * JavaScript number. It does not check syntax; a parser does.
 */
export function scanJson(text: string): JsonScan {
  let depth = 0;
  let members = 0;
  let lossyNumber = false;
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
    else if (c === 58) members++;
    else if (c === 45 || (c >= 48 && c <= 57)) {
      let end = i + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
      if (!lossyNumber) {
        const token = text.slice(i, end);
        lossyNumber = String(Number(token)) !== token;
      }
      i = end - 1;
    }
  }
  return { members, lossyNumber };
}

/** Own keys of every object in a parsed JSON value. */
export function countMembers(value: unknown): number {
  if (Array.isArray(value)) {
    let n = 0;
    for (const v of value) n += countMembers(v);
    return n;
  }
  if (typeof value !== 'object' || value === null) return 0;
  let n = 0;
  for (const k in value) n += 1 + countMembers((value as Record<string, unknown>)[k]);
  return n;
}
