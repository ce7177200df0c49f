import type { AccessConstraint } from '../../store/protocol.js';

/** Whether a constraint lets the caller see one resource (the store's own rule, imported). */
export type ResourceAllows = (c: AccessConstraint, resource: Record<string, unknown>) => boolean;

export interface Filtered {
  body: unknown;
  /** Entries removed from a Bundle. */
  removed: number;
  /** A single resource the caller may not see: answer exactly like a missing one. */
  hidden: boolean;
}

function typeOfEntry(e: { fullUrl?: unknown; request?: { url?: unknown } }): string | undefined {
  const url =
    typeof e.request?.url === 'string'
      ? e.request.url
      : typeof e.fullUrl === 'string'
        ? e.fullUrl
        : '';
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]+(?:\/_history\/[^/?]*)?(?:\?.*)?$/.exec(url);
  return m?.[1];
}

/**
 * Filters a response from a backend that cannot apply the constraint itself (`FHIR_UPSTREAM`):
 * Bundle entries the caller may not see are removed and `total` with them (it would leak a count);
 * a single hidden resource becomes a 404. Weaker than in-query enforcement: pages can come out short.
 */
export function filterResponse(
  body: unknown,
  c: AccessConstraint,
  allows: ResourceAllows,
): Filtered {
  if (typeof body !== 'object' || body === null) return { body, removed: 0, hidden: false };
  const r = body as Record<string, unknown>;
  if (r.resourceType === 'OperationOutcome') return { body, removed: 0, hidden: false };
  if (r.resourceType !== 'Bundle' || !Array.isArray(r.entry)) {
    return { body, removed: 0, hidden: !allows(c, r) };
  }
  const entries = r.entry as {
    resource?: Record<string, unknown>;
    fullUrl?: unknown;
    request?: { url?: unknown };
  }[];
  const kept = entries.filter((e) => {
    if (e.resource === undefined) {
      const t = typeOfEntry(e);
      const access = t === undefined ? undefined : (c.types[t] ?? c.types['*']);
      return access !== undefined && access.compartment === undefined && access.anyOf === undefined;
    }
    if (e.resource.resourceType === 'OperationOutcome') return true;
    return allows(c, e.resource);
  });
  const removed = entries.length - kept.length;
  if (removed === 0) return { body, removed, hidden: false };
  const out: Record<string, unknown> = { ...r, entry: kept };
  delete out.total;
  return { body: out, removed, hidden: false };
}
