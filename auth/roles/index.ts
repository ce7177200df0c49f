/**
 * The data-plane roles, defined once: the built-in ones (Azure API for FHIR's), ROLES_FILE's custom
 * ones, the data-action vocabulary, and what SMART scopes each role can ever allow. The gateway
 * compiles its enforcement from these definitions; auth bounds its grants by the same ones.
 */
export {
  DATA_ACTIONS,
  effectiveActions,
  expandActions,
  isDataAction,
  isDataActionName,
  type DataAction,
  type DataActionName,
} from './data-actions.js';
export { BUILT_IN_ROLES, type RoleDefinition } from './built-in-roles.js';
export { parseRolesFile, readRolesFile, RolesFileError } from './roles-file.js';
export { loadRoleDefinitions, roleDefinitions } from './role-definitions.js';
export { loadRoleCatalog, roleCatalog, roleLimits, type RoleCatalog } from './role-catalog.js';
