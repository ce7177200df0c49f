import { createRegistry } from './definitions/registry.js';
import type { SearchParam } from './definitions/search-param.js';

interface CsResource {
  type?: string;
  searchParam?: unknown[];
  searchInclude?: string[];
  searchRevInclude?: string[];
  operation?: unknown[];
}

function supported(p: SearchParam): boolean {
  return (
    p.type !== 'special' &&
    (p.expression !== undefined || p.code === '_id' || p.code === '_lastUpdated')
  );
}

/**
 * Adds what search supports to the CapabilityStatement: per type, every searchable parameter
 * (unsupported ones such as `_text`, `_content`, `near` are absent), includes and revincludes,
 * and `Patient/$everything`.
 */
export function describeSearch(cs: Record<string, unknown>): void {
  const registry = createRegistry();
  const rest = (cs.rest as { resource?: CsResource[]; searchParam?: unknown[] }[] | undefined)?.[0];
  if (rest === undefined) return;
  const referencing = new Map<string, string[]>();
  for (const r of rest.resource ?? []) {
    for (const p of registry.list(r.type ?? '')) {
      if (p.type !== 'reference') continue;
      for (const t of p.target)
        referencing.set(t, [...(referencing.get(t) ?? []), `${p.resourceType}:${p.code}`]);
    }
  }
  for (const r of rest.resource ?? []) {
    const type = r.type ?? '';
    const params = registry.list(type).filter(supported);
    r.searchParam = params.map((p) => ({ name: p.code, definition: p.url, type: p.type }));
    r.searchInclude = [
      '*',
      ...params.filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`),
    ];
    r.searchRevInclude = referencing.get(type) ?? [];
    if (type === 'Patient') {
      r.operation = [
        ...(r.operation ?? []),
        {
          name: 'everything',
          definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
        },
      ];
    }
  }
  rest.searchParam = [
    { name: '_type', type: 'token', documentation: 'system search across the listed types' },
  ];
}
