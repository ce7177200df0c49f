import { PERMISSION_ORDER, type Permission } from '../scopes/index.js';
import type { RoleDefinition } from './built-in-roles.js';
import { effectiveActions, type DataAction } from './data-actions.js';
import { loadRoleDefinitions } from './role-definitions.js';

/**
 * Roles bound what any token may carry: a role is, to the granting function, the SMART scopes it can
 * ever allow, which it intersects with the request.
 */
export interface RoleCatalog {
  /** Every valid role name. */
  readonly names: readonly string[];
  /**
   * The clinical scopes (as scope strings, e.g. `user/*.rs`) the given roles together allow: their
   * union; empty for none or unknown names.
   */
  limits(roles: readonly string[]): string[];
}

const PERMISSION: Partial<Record<DataAction, Permission>> = {
  create: 'c',
  readById: 'r',
  update: 'u',
  delete: 'd',
  search: 's',
};

/**
 * The scopes one role can ever allow, from the data actions the gateway enforces for it, so a token
 * never carries a scope its roles could never use: `create`→c, `readById`→r, `update`→u, `delete`→d,
 * `search`→s, on every type or the role's `resourceTypes`, in every context; `auditRead` adds
 * `user/AuditEvent.rs` and `system/AuditEvent.rs`.
 */
export function roleLimits(role: RoleDefinition): string[] {
  const actions = [...effectiveActions(role)];
  const letters = PERMISSION_ORDER.filter((p) => actions.some((a) => PERMISSION[a] === p)).join('');
  const out: string[] = [];
  if (letters !== '') {
    for (const context of ['patient', 'user', 'system'])
      for (const type of role.resourceTypes ?? ['*']) out.push(`${context}/${type}.${letters}`);
  }
  if (actions.includes('auditRead')) out.push('user/AuditEvent.rs', 'system/AuditEvent.rs');
  return out;
}

/** The catalog of the given role definitions (see `roleDefinitions`). */
export function roleCatalog(definitions: readonly RoleDefinition[]): RoleCatalog {
  const byName = new Map(definitions.map((d) => [d.name, roleLimits(d)]));
  return {
    names: [...byName.keys()],
    limits: (roles) => [...new Set(roles.flatMap((r) => byName.get(r) ?? []))],
  };
}

/** The catalog of the built-in roles plus ROLES_FILE's: what the CLI and auth use by default. */
export function loadRoleCatalog(rolesFile: string | undefined): RoleCatalog {
  return roleCatalog(loadRoleDefinitions(rolesFile));
}
