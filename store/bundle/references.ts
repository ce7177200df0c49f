import { isJsonObject, type JsonValue } from '../fhir/json.js';

/**
 * Rewrites `urn:uuid:` (and other placeholder) fullUrls of a transaction into the resources' real
 * `Type/id` everywhere they are referenced: any string equal to one (references, canonical-ish uris),
 * and inside narrative XHTML (`div`). Copy on write: an array or object in which nothing changes
 * is returned as it is, one in which something changes as a copy (an own `__proto__` member, which
 * such a copy never kept, counts as a change).
 */
export function rewriteReferences(
  value: JsonValue,
  map: ReadonlyMap<string, string>,
  key = '',
): JsonValue {
  if (map.size === 0) return value;
  if (typeof value === 'string') {
    const exact = map.get(value);
    if (exact !== undefined) return exact;
    if (key === 'div' && value.includes('urn:')) {
      let out = value;
      for (const [from, to] of map) out = out.split(from).join(to);
      return out;
    }
    return value;
  }
  if (Array.isArray(value)) {
    let out: JsonValue[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as JsonValue;
      const w = rewriteReferences(v, map, key);
      if (w !== v && out === undefined) out = value.slice(0, i);
      out?.push(w);
    }
    return out ?? value;
  }
  if (isJsonObject(value)) {
    const keys = Object.keys(value);
    let out: Record<string, JsonValue> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      const v = value[k] as JsonValue;
      const w = rewriteReferences(v, map, k);
      if ((w !== v || k === '__proto__') && out === undefined) {
        out = {};
        for (let j = 0; j < i; j++) {
          const kj = keys[j] as string;
          out[kj] = value[kj] as JsonValue;
        }
      }
      if (out !== undefined) out[k] = w;
    }
    return out ?? value;
  }
  return value;
}

/** Rewrites placeholders inside a request URL's query (`Observation?subject=urn:uuid:…`). */
export function rewriteUrl(url: string, map: ReadonlyMap<string, string>): string {
  if (map.size === 0 || !url.includes('urn:')) return url;
  let out = url;
  for (const [from, to] of map) {
    out = out.split(encodeURIComponent(from)).join(encodeURIComponent(to)).split(from).join(to);
  }
  return out;
}
