import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';

/**
 * How references between resources of the same transaction Bundle are written: `urn:uuid` makes
 * every entry's fullUrl `urn:uuid:<id>` and points references inside the Bundle at it (the server
 * rewrites them to `Type/id` when it stores them); `relative` keeps `Type/id` everywhere.
 */
export type ReferenceStyle = 'urn:uuid' | 'relative';

function rewriteReferences(value: unknown, local: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, local));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      key === 'reference' && typeof v === 'string'
        ? (local.get(v) ?? v)
        : rewriteReferences(v, local);
  }
  return out;
}

/**
 * A transaction Bundle that upserts every resource with `PUT Type/id`, so loading it twice leaves
 * the same resources (idempotent seeding).
 */
export function transactionBundle(
  resources: readonly Resource[],
  style: ReferenceStyle = 'urn:uuid',
): Bundle {
  const local = new Map<string, string>();
  if (style === 'urn:uuid') {
    for (const r of resources)
      if (r.id !== undefined) local.set(`${r.resourceType}/${r.id}`, `urn:uuid:${r.id}`);
  }
  const entry = resources.map((r): BundleEntry => {
    const id = r.id ?? '';
    return {
      fullUrl: style === 'urn:uuid' ? `urn:uuid:${id}` : `${r.resourceType}/${id}`,
      resource: (local.size > 0 ? rewriteReferences(r, local) : r) as Resource,
      request: { method: 'PUT', url: `${r.resourceType}/${id}` },
    };
  });
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/** NDJSON per resource type (the Bulk Data file layout), references kept as `Type/id`. */
export function ndjsonByType(resources: Iterable<Resource>): Map<string, string> {
  const out = new Map<string, string[]>();
  for (const r of resources) {
    const lines = out.get(r.resourceType) ?? [];
    lines.push(JSON.stringify(r));
    out.set(r.resourceType, lines);
  }
  return new Map([...out].map(([type, lines]) => [type, `${lines.join('\n')}\n`]));
}
