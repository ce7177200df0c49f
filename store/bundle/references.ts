import { isJsonObject, type JsonValue } from '../fhir/json.js';

/**
 * Rewrites `urn:uuid:` (and other placeholder) fullUrls of a transaction into the resources' real
 * `Type/id` everywhere they are referenced: any string equal to one (references, canonical-ish uris),
 * and inside narrative XHTML (`div`).
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
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, map, key));
  if (isJsonObject(value)) {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = rewriteReferences(v, map, k);
    return out;
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
