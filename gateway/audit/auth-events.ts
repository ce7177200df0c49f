import type { AuditEvent } from '@medplum/fhirtypes';
import type { AuthEventMap } from '../../auth/index.js';
import type { Logger } from '../../common/logger.js';
import { adminAuditEvent, authAuditEvent } from './events.js';
import type { AuditTrail } from './trail.js';

/** The part of auth's event emitter the audit trail listens to. */
export interface AuthEventSource {
  on<K extends keyof AuthEventMap>(event: K, listener: (...args: AuthEventMap[K]) => void): unknown;
}

type Mapper<K extends keyof AuthEventMap> = (site: string, ...args: AuthEventMap[K]) => AuditEvent;

/** Each auth event as an AuditEvent (BALP/DICOM authentication vocabulary; admin changes as 110100). */
const MAPPERS: { [K in keyof AuthEventMap]: Mapper<K> } = {
  'signin.success': (site, e) =>
    authAuditEvent({ kind: 'login', success: true, site, sub: e.userId, clientIp: e.address }),
  'signin.failure': (site, e) =>
    authAuditEvent({ kind: 'login', success: false, site, clientIp: e.address, reason: e.reason }),
  'consent.given': (site, e) =>
    authAuditEvent({
      kind: 'consent',
      success: true,
      site,
      sub: e.userId,
      clientId: e.clientId,
      scope: e.scope,
      patient: e.patient,
    }),
  'consent.denied': (site, e) =>
    authAuditEvent({
      kind: 'consent',
      success: false,
      site,
      sub: e.userId,
      clientId: e.clientId,
      reason: 'denied by the user',
    }),
  'token.issued': (site, e) =>
    authAuditEvent({
      kind: 'token',
      success: true,
      site,
      sub: e.sub,
      clientId: e.clientId,
      scope: e.scope,
      patient: e.patient,
      reason: e.grantType,
    }),
  'token.refreshed': (site, e) =>
    authAuditEvent({
      kind: 'refresh',
      success: true,
      site,
      sub: e.sub,
      clientId: e.clientId,
      scope: e.scope,
    }),
  'token.revoked': (site, e) =>
    authAuditEvent({
      kind: 'revoke',
      success: true,
      site,
      clientId: e.clientId,
      reason: e.tokenType,
    }),
  'token.introspected': (site, e) =>
    authAuditEvent({
      kind: 'introspect',
      success: true,
      site,
      clientId: e.clientId,
      reason: e.active ? 'active' : 'inactive',
    }),
  'client.auth.failure': (site, e) =>
    authAuditEvent({
      kind: 'client-auth-failure',
      success: false,
      site,
      clientId: e.clientId,
      reason: e.reason,
    }),
  'launch.created': (site, e) =>
    authAuditEvent({
      kind: 'launch',
      success: true,
      site,
      sub: e.userId,
      clientId: e.clientId,
      patient: e.patient,
    }),
  'account.changed': (site, e) =>
    adminAuditEvent({
      activity: `user-${e.change}`,
      action: e.change === 'added' ? 'C' : e.change === 'removed' ? 'D' : 'U',
      success: true,
      site,
      what: [`user:${e.username}`],
    }),
  'client.changed': (site, e) =>
    adminAuditEvent({
      activity: `client-${e.change}`,
      action: e.change === 'added' ? 'C' : 'D',
      success: true,
      site,
      what: [`client:${e.clientId}`],
    }),
};

/**
 * Subscribes the audit trail to auth's events (the composition root calls this once). A record that
 * cannot be written is logged; the auth flow itself is not held up.
 */
export function auditAuthEvents(
  source: AuthEventSource,
  trail: AuditTrail,
  site: string,
  log: Logger,
): void {
  for (const name of Object.keys(MAPPERS) as (keyof AuthEventMap)[]) {
    const map = MAPPERS[name] as (site: string, ...args: unknown[]) => AuditEvent;
    source.on(name, (...args: unknown[]) => {
      trail.record(map(site, ...args)).catch((err: unknown) => {
        log.error({ err, event: name }, 'could not record an auth audit event');
      });
    });
  }
}
