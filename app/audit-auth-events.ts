import type { EventEmitter } from 'node:events';
import type { AuthEventName, AuthEvents } from '../auth/index.js';
import { auditAuthEvents, type AuditTrail, type AuthEventSource } from '../gateway/index.js';
import type { Logger } from '../common/logger.js';

/**
 * Account and client changes reach auth as a feed read from the auth database (the CLI writes it
 * too). auth emits each change at exactly one of the processes sharing that database (the one that
 * claims it), so every process audits the feed; `adminFeed` false leaves it out.
 */
const ADMIN_FEED: ReadonlySet<AuthEventName> = new Set(['account.changed', 'client.changed']);

/** Wires auth's events into the audit trail; `adminFeed` false leaves out the account/client feed. */
export function auditAuth(
  events: AuthEvents,
  trail: AuditTrail,
  site: string,
  log: Logger,
  adminFeed: boolean,
): void {
  const source: AuthEventSource = adminFeed
    ? events
    : {
        on(event, listener) {
          if (ADMIN_FEED.has(event)) return undefined;
          // EventEmitter's conditional listener type does not narrow on a generic key.
          return (events as unknown as EventEmitter).on(event, listener);
        },
      };
  auditAuthEvents(source, trail, site, log);
}
