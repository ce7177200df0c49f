import { denied } from '../errors.js';
import type { Principal } from '../auth/principal.js';
import type { DataAction } from '../authz/data-actions.js';
import type { Grant, Permission } from '../authz/grant.js';
import type { RoleSet } from '../authz/roles.js';

/**
 * Who may run bulk jobs (as Azure): backend services with `system/` scopes and the exporter or
 * importer data action; tokens with a patient or user context are refused.
 */
export interface BulkAccess {
  /** Per type the caller may read (`*` included): undefined = the whole type, else any of filters. */
  read: Map<string, string[] | undefined>;
  /** Types the caller may write (`*` for any). */
  write: string[];
}

function permits(g: Grant, perms: readonly Permission[]): boolean {
  return perms.every((p) => g.permissions.has(p));
}

export function bulkAccess(
  principal: Principal,
  grants: readonly Grant[],
  roles: RoleSet,
  action: DataAction,
  realm: string,
): BulkAccess {
  if (principal.patient !== undefined || grants.some((g) => g.context !== 'system')) {
    throw denied(
      realm,
      `${action} needs a backend-services token with system/ scopes only`,
      true,
      'bulk-system-scopes-only',
    );
  }
  if (!roles.allows(principal.roles, action)) {
    throw denied(
      realm,
      `${action} needs a role with the ${action} data action`,
      false,
      'bulk-role',
    );
  }
  const read = new Map<string, string[] | undefined>();
  for (const g of grants) {
    if (!permits(g, ['r'])) continue;
    const prev = read.get(g.resourceType);
    if (g.query === undefined || (read.has(g.resourceType) && prev === undefined)) {
      read.set(g.resourceType, undefined);
    } else read.set(g.resourceType, [...(prev ?? []), g.query]);
  }
  // The importer role is what grants writing through $import (as Azure's); scopes still bound the
  // types (the authorization server may narrow system/ scopes to what the role grants, e.g. `.rs`).
  const write = grants.filter((g) => g.query === undefined).map((g) => g.resourceType);
  const needed = action === 'import' ? write.length : read.size;
  if (needed === 0) {
    throw denied(
      realm,
      `no system/ scope covers any resource type for ${action}`,
      true,
      'bulk-no-scope',
    );
  }
  return { read, write };
}

/** The filters for `type` under `access.read`: null when not readable, undefined for all of it. */
export function readFilters(access: BulkAccess, type: string): string[] | undefined | null {
  if (access.read.has(type)) {
    const own = access.read.get(type);
    if (own === undefined) return undefined;
    if (access.read.has('*'))
      return access.read.get('*') === undefined
        ? undefined
        : [...own, ...(access.read.get('*') ?? [])];
    return own;
  }
  if (access.read.has('*')) return access.read.get('*');
  return null;
}
