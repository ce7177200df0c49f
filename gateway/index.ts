/**
 * The FHIR gateway: token verification, scope ∧ role ∧ compartment enforcement, the tamper-evident
 * audit trail, and the proxy to the FHIR backend. The only entry other folders import.
 */
export {
  createGateway,
  type Gateway,
  type GatewayAuth,
  type GatewayOptions,
  type HealthReport,
} from './create-gateway.js';
export { registerGatewayCommands } from './cli.js';
export { AuditTrail, AUDIT_DB_FILE, type AuditTrailOptions } from './audit/trail.js';
export {
  authAuditEvent,
  adminAuditEvent,
  restAuditEvents,
  type AuthAuditInput,
  type AdminAuditInput,
} from './audit/events.js';
export { verifyAudit, type VerifyResult } from './audit/verify.js';
export { openAuditStore, type OpenAuditStoreOptions } from './audit/open-audit-store.js';
export type { AuditStore, AppendResult } from './audit/audit-store.js';
export type { ChainHead, RecordRow } from './audit/chain.js';
export type { CheckpointRow } from './audit/checkpoint.js';
export { auditAuthEvents, type AuthEventSource } from './audit/auth-events.js';
export type { Checkpoint } from './audit/checkpoint.js';
export { RoleSet } from './authz/roles.js';
export { authorize, type Decision, type AuthzInput, type DenyRule } from './authz/decide.js';
export { authorizeBundle } from './authz/decide-bundle.js';
export { parseInteraction, type FhirInteraction } from './authz/interaction.js';
export { grantsFromScopes } from './authz/grants.js';
export type { UpstreamOptions } from './proxy/upstream.js';
export type { RateLimitOptions } from './middleware/rate-limit.js';
export type { CorsOptions } from './middleware/cors.js';
export type { Principal } from './auth/principal.js';
export { registerBulkCommands } from './bulk/index.js';
