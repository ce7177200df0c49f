import { EventEmitter } from 'node:events';

/**
 * Auth events for the audit trail. The composition root subscribes and writes AuditEvents; auth
 * never imports the gateway. Payloads never contain secrets or tokens (only token ids).
 */
export interface AuthEventMap {
  'signin.success': [{ userId: string; username: string; address: string | undefined }];
  'signin.failure': [
    { username: string; address: string | undefined; reason: 'invalid' | 'throttled' },
  ];
  'consent.given': [
    { userId: string; clientId: string; scope: string; patient: string | undefined },
  ];
  'consent.denied': [{ userId: string; clientId: string }];
  'token.issued': [
    {
      clientId: string;
      sub: string;
      grantType: string;
      scope: string;
      jti: string | undefined;
      patient: string | undefined;
    },
  ];
  'token.refreshed': [{ clientId: string; sub: string; scope: string; jti: string | undefined }];
  'token.revoked': [{ clientId: string; tokenType: 'access_token' | 'refresh_token' }];
  'token.introspected': [
    { clientId: string | undefined; active: boolean; jti: string | undefined },
  ];
  'client.auth.failure': [{ clientId: string | undefined; reason: string }];
  'launch.created': [{ userId: string; clientId: string; patient: string | undefined }];
  'account.changed': [
    {
      username: string;
      change: 'added' | 'disabled' | 'enabled' | 'removed' | 'password' | 'roles';
    },
  ];
  'client.changed': [{ clientId: string; change: 'added' | 'removed' }];
}

export type AuthEventName = keyof AuthEventMap;

export class AuthEvents extends EventEmitter<AuthEventMap> {}
