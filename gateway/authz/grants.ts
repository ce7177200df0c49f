import { formatScope, parseScopes } from '../../auth/scopes/index.js';
import type { Grant } from './grant.js';

/**
 * A token's clinical scopes as grants, parsed with the one SMART scope grammar (auth/scopes).
 * Granular filters become a search query string (`category=http%3A%2F%2F…%7Claboratory`).
 */
export function grantsFromScopes(scopes: readonly string[]): Grant[] {
  return parseScopes(scopes.join(' ')).clinical.map((s) => ({
    context: s.context,
    resourceType: s.resourceType,
    permissions: s.permissions,
    query:
      s.query.length === 0
        ? undefined
        : new URLSearchParams(s.query.map(([n, v]): [string, string] => [n, v])).toString(),
    scope: formatScope(s),
  }));
}

/** Grants per verified token, computed once per principal object (principals are cached by token). */
export function grantsCache(): (p: { scopes: string[] }) => readonly Grant[] {
  const cache = new WeakMap<object, readonly Grant[]>();
  return (p) => {
    let g = cache.get(p);
    if (g === undefined) {
      g = grantsFromScopes(p.scopes);
      cache.set(p, g);
    }
    return g;
  };
}
