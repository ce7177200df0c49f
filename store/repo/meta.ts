import { isJsonObject, type JsonObject } from '../fhir/json.js';

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
  const { resourceType, meta, ...withId } = resource;
  const rest: JsonObject = { ...withId };
  delete rest.id;
  const kept: JsonObject = {};
  if (isJsonObject(meta)) {
    for (const [k, v] of Object.entries(meta))
      if (k !== 'versionId' && k !== 'lastUpdated') kept[k] = v;
  }
  return {
    resourceType: resourceType ?? null,
    id,
    meta: { versionId: String(version), lastUpdated: instant(lastUpdated), ...kept },
    ...rest,
  };
}
