import { isJsonObject, type JsonObject, type JsonValue } from '../fhir/json.js';

/** The instant text of a `last_updated` value (ms since epoch). */
export function instant(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The resource as stored: `resourceType`, the server's `id`, then `meta` with the server's
 * `versionId` and `lastUpdated` (other meta elements kept), then the rest in the client's order.
 */
export function withServerMeta(
  resource: JsonObject,
  id: string,
  version: number,
  lastUpdated: number,
): JsonObject {
  const { resourceType, meta } = resource;
  const kept: JsonObject = {};
  if (isJsonObject(meta)) {
    for (const [k, v] of Object.entries(meta))
      if (k !== 'versionId' && k !== 'lastUpdated') kept[k] = v;
  }
  const out: JsonObject = {
    resourceType: resourceType ?? null,
    id,
    meta: { versionId: String(version), lastUpdated: instant(lastUpdated), ...kept },
  };
  // the rest in the client's order, as own data properties (a spread's copy, without its cost)
  for (const k of Object.keys(resource)) {
    if (k === 'resourceType' || k === 'meta' || k === 'id') continue;
    if (k === '__proto__') {
      Object.defineProperty(out, k, {
        value: resource[k],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } else out[k] = resource[k] as JsonValue;
  }
  return out;
}
