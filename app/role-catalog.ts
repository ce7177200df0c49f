import { roleCatalog, type RoleCatalog } from '../auth/index.js';
import type { RoleSet } from '../gateway/index.js';

/** What auth may grant for the roles the gateway enforces: the same definitions, auth's derivation. */
export const roleCatalogOf = (roles: RoleSet): RoleCatalog => roleCatalog(roles.definitions);
