/**
 * Hearth's SMART App Launch 2.2 authorization server (oidc-provider 9), its account and client
 * store, and the CLI commands that manage them. The only entry other folders import.
 */
export { createAuth } from './create-auth.js';
export { registerAuthCommands } from './cli/register.js';
export { openAdmin, type Admin } from './cli/admin.js';
export {
  copyAuthState,
  countAuthState,
  type AuthCopyProgress,
  type AuthCopyResult,
  type AuthStateLocation,
} from './migrate/copy-auth-state.js';
export { authOnPostgres } from './db/open-auth-sql.js';
export { AuthEvents, type AuthEventMap, type AuthEventName } from './events.js';
export { smartConfiguration, CAPABILITIES, type SmartConfiguration } from './discovery.js';
export {
  BUILT_IN_ROLES,
  DATA_ACTIONS,
  effectiveActions,
  expandActions,
  isDataAction,
  loadRoleCatalog,
  loadRoleDefinitions,
  parseRolesFile,
  readRolesFile,
  roleCatalog,
  roleDefinitions,
  roleLimits,
  RolesFileError,
  type DataAction,
  type DataActionName,
  type RoleCatalog,
  type RoleDefinition,
} from './roles/index.js';
export type {
  AccessTokenClaims,
  Auth,
  AuthOptions,
  AuthSessions,
  ClientInfo,
  EncounterSummary,
  FhirContextItem,
  LaunchHandle,
  LaunchInput,
  PatientSearchQuery,
  PatientSearchResult,
  PatientSummary,
  SearchEncounters,
  SearchPatients,
  SignInResult,
  UserInfo,
} from './types.js';
export type {
  ConsentScopeOption,
  ConsentView,
  CsrfField,
  ErrorView,
  InteractionViews,
  LoginView,
  PatientPickerView,
} from './interactions/views.js';
