import type { AuthEvents } from '../auth/index.js';
import { authAuditEvent, type AuditTrail, type AuthAuditInput } from '../gateway/index.js';
import type { Logger } from '../common/logger.js';

/**
 * Records every authorization-server event in the gateway's audit trail (auth never imports the
 * gateway; this is the composition root's wiring). Failures to record are logged, never thrown
 * into auth's request path.
 */
export function auditAuthEvents(
  events: AuthEvents,
  trail: AuditTrail,
  site: string,
  log: Logger,
): void {
  const record = (input: Omit<AuthAuditInput, 'site'>): void => {
    trail.record(authAuditEvent({ ...input, site })).catch((err: unknown) => {
      log.error({ err }, 'could not record an auth event in the audit trail');
    });
  };
  events.on('signin.success', (e) => {
    record({ kind: 'login', success: true, sub: e.userId, clientIp: e.address });
  });
  events.on('signin.failure', (e) => {
    record({ kind: 'login', success: false, clientIp: e.address, reason: e.reason });
  });
  events.on('consent.given', (e) => {
    record({
      kind: 'consent',
      success: true,
      sub: e.userId,
      clientId: e.clientId,
      scope: e.scope,
      patient: e.patient,
    });
  });
  events.on('consent.denied', (e) => {
    record({
      kind: 'consent',
      success: false,
      sub: e.userId,
      clientId: e.clientId,
      reason: 'access_denied',
    });
  });
  events.on('token.issued', (e) => {
    record({
      kind: 'token',
      success: true,
      sub: e.sub,
      clientId: e.clientId,
      scope: e.scope,
      patient: e.patient,
    });
  });
  events.on('token.refreshed', (e) => {
    record({ kind: 'refresh', success: true, sub: e.sub, clientId: e.clientId, scope: e.scope });
  });
  events.on('token.revoked', (e) => {
    record({ kind: 'revoke', success: true, clientId: e.clientId, reason: e.tokenType });
  });
  events.on('token.introspected', (e) => {
    record({ kind: 'introspect', success: e.active, clientId: e.clientId });
  });
  events.on('client.auth.failure', (e) => {
    record({ kind: 'client-auth-failure', success: false, clientId: e.clientId, reason: e.reason });
  });
}
