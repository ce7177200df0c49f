import { nowSeconds, type AuthDb } from './db/open-auth-db.js';
import type { AccessTokenClaims } from './types.js';

/**
 * The per-request liveness check the gateway runs on every verified access token: a handful of
 * primary-key lookups with prepared statements. Revoked tokens, revoked grants, disabled or removed
 * users, changed roles and removed clients are refused at once.
 */
export class TokenLiveness {
  readonly #revoked;
  readonly #revoke;
  readonly #purge;
  readonly #grant;
  readonly #user;
  readonly #client;

  constructor(db: AuthDb) {
    this.#revoked = db.prepare<[string], { one: number }>(
      'SELECT 1 AS one FROM revoked_tokens WHERE jti = ?',
    );
    this.#revoke = db.prepare<[string, number]>(
      'INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)',
    );
    this.#purge = db.prepare<[number]>('DELETE FROM revoked_tokens WHERE expires_at <= ?');
    this.#grant = db.prepare<[string, number], { one: number }>(
      `SELECT 1 AS one FROM oidc_payloads WHERE model = 'Grant' AND id = ?
       AND (expires_at IS NULL OR expires_at > ?)`,
    );
    this.#user = db.prepare<[string], { enabled: number; roles: string }>(
      'SELECT enabled, roles FROM users WHERE id = ?',
    );
    this.#client = db.prepare<[string], { roles: string }>(
      'SELECT roles FROM clients WHERE client_id = ?',
    );
  }

  isAlive(claims: AccessTokenClaims): boolean {
    const { jti, sub, client_id: clientId, grant } = claims;
    if (typeof jti !== 'string' || typeof sub !== 'string' || typeof clientId !== 'string')
      return false;
    if (typeof claims.exp === 'number' && claims.exp <= nowSeconds()) return false;
    if (this.#revoked.get(jti) !== undefined) return false;
    const client = this.#client.get(clientId);
    if (client === undefined) return false;
    if (typeof grant === 'string') {
      if (this.#grant.get(grant, nowSeconds()) === undefined) return false;
      const user = this.#user.get(sub);
      if (user === undefined || user.enabled !== 1) return false;
      return sameRoles(user.roles, claims.roles);
    }
    return sub === clientId && sameRoles(client.roles, claims.roles);
  }

  /** Refuses this token id from now until it expires anyway. */
  revoke(jti: string, exp: number): void {
    this.#revoke.run(jti, exp);
  }

  purgeExpired(): number {
    return this.#purge.run(nowSeconds()).changes;
  }
}

function sameRoles(stored: string, claimed: readonly string[] | undefined): boolean {
  const current = JSON.parse(stored) as string[];
  const token = [...(claimed ?? [])].sort();
  return current.length === token.length && current.every((r, i) => r === token[i]);
}
