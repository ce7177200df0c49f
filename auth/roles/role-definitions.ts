import { BUILT_IN_ROLES, type RoleDefinition } from './built-in-roles.js';
import { readRolesFile, RolesFileError } from './roles-file.js';

/**
 * A deployment's roles: the built-in ones, then the custom ones, each name once (a custom role may
 * not redefine a built-in one). What the gateway enforces and what auth may grant both derive from it.
 */
export function roleDefinitions(custom: readonly RoleDefinition[] = []): readonly RoleDefinition[] {
  const seen = new Set<string>();
  const all = [...BUILT_IN_ROLES, ...custom];
  for (const def of all) {
    if (seen.has(def.name)) throw new RolesFileError(`role ${def.name} is defined twice`);
    seen.add(def.name);
  }
  return all;
}

/** The built-in roles plus those of ROLES_FILE (unset: the built-in ones only). */
export function loadRoleDefinitions(rolesFile: string | undefined): readonly RoleDefinition[] {
  return roleDefinitions(readRolesFile(rolesFile));
}
