import {
  canonicalQuery,
  formatScope,
  type ClinicalScope,
  type Permission,
  type ScopeContext,
} from './grammar.js';

/**
 * Comparing and combining clinical scopes. A granular query narrows a scope: `patient/Observation.rs`
 * covers `patient/Observation.rs?category=…|laboratory`, not the other way round.
 */

function typeCovers(granted: string, requested: string): boolean {
  return granted === '*' || granted === requested;
}

/** Every filter pair of `granted` is also in `requested` (requested is at least as narrow). */
function queryCovers(granted: ClinicalScope['query'], requested: ClinicalScope['query']): boolean {
  return granted.every(([n, v]) => requested.some(([m, w]) => m === n && w === v));
}

/** Whether holding `granted` gives everything `requested` asks for. */
export function covers(granted: ClinicalScope, requested: ClinicalScope): boolean {
  if (granted.context !== requested.context) return false;
  if (!typeCovers(granted.resourceType, requested.resourceType)) return false;
  for (const p of requested.permissions) if (!granted.permissions.has(p)) return false;
  return queryCovers(granted.query, requested.query);
}

/**
 * What `requested` and `limit` allow together, written in `requested`'s version; undefined when
 * nothing. Filters of both apply (AND), so their pairs are united.
 */
export function intersect(
  requested: ClinicalScope,
  limit: ClinicalScope,
): ClinicalScope | undefined {
  if (requested.context !== limit.context) return undefined;
  let resourceType: string;
  if (requested.resourceType === limit.resourceType || limit.resourceType === '*') {
    resourceType = requested.resourceType;
  } else if (requested.resourceType === '*') {
    resourceType = limit.resourceType;
  } else {
    return undefined;
  }
  const permissions = new Set<Permission>();
  for (const p of requested.permissions) if (limit.permissions.has(p)) permissions.add(p);
  if (permissions.size === 0) return undefined;
  return {
    kind: 'clinical',
    context: requested.context,
    resourceType,
    permissions,
    version: requested.version,
    query: canonicalQuery([...requested.query, ...limit.query]),
  };
}

/** Intersects every requested scope with every limit; the union of the results, minimised. */
export function intersectAll(
  requested: readonly ClinicalScope[],
  limits: readonly ClinicalScope[],
): ClinicalScope[] {
  const out: ClinicalScope[] = [];
  for (const r of requested) {
    for (const l of limits) {
      const i = intersect(r, l);
      if (i !== undefined) out.push(i);
    }
  }
  return minimise(out);
}

/** Drops duplicates and scopes another scope in the list already covers. */
export function minimise(scopes: readonly ClinicalScope[]): ClinicalScope[] {
  const unique = new Map<string, ClinicalScope>();
  for (const s of scopes) unique.set(formatScope(s), s);
  const list = [...unique.values()];
  return list.filter((s, i) => !list.some((o, j) => j !== i && covers(o, s) && !covers(s, o)));
}

/**
 * The scopes that grant `permission` on `resourceType` in `context` (any context when omitted).
 * Their granular queries are alternatives (OR): a resource is allowed when it matches any of them,
 * and unconditionally when one of them has no query.
 */
export function scopesGranting(
  scopes: readonly ClinicalScope[],
  resourceType: string,
  permission: Permission,
  context?: ScopeContext,
): ClinicalScope[] {
  return scopes.filter(
    (s) =>
      (context === undefined || s.context === context) &&
      typeCovers(s.resourceType, resourceType) &&
      s.permissions.has(permission),
  );
}
