import type { RoleCatalog } from '../auth/index.js';
import type { RoleSet } from '../gateway/index.js';

const LETTER: Record<string, string> = {
  create: 'c',
  readById: 'r',
  update: 'u',
  delete: 'd',
  search: 's',
};
const ORDER = ['c', 'r', 'u', 'd', 's'];

/**
 * What auth may grant for a set of roles, derived from the gateway's role definitions (the data
 * actions the gateway enforces), so a token never carries a scope its roles could never use:
 * `readById`→r, `search`→s, `create`→c, `update`→u, `delete`→d, for every type or the role's
 * `resourceTypes`; `auditRead` adds `AuditEvent.rs`.
 */
export function roleCatalogFrom(roles: RoleSet): RoleCatalog {
  const byName = new Map<string, string[]>();
  for (const role of roles.list()) {
    const letters = ORDER.filter((l) => role.dataActions.some((a) => LETTER[a] === l)).join('');
    const types = role.resourceTypes ?? ['*'];
    const out: string[] = [];
    if (letters !== '') {
      for (const context of ['patient', 'user', 'system'])
        for (const type of types) out.push(`${context}/${type}.${letters}`);
    }
    if (role.dataActions.includes('auditRead'))
      out.push('user/AuditEvent.rs', 'system/AuditEvent.rs');
    byName.set(role.name, out);
  }
  return {
    names: [...byName.keys()],
    limits: (names) => [...new Set(names.flatMap((n) => byName.get(n) ?? []))],
  };
}
