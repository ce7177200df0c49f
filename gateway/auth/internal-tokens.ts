import { randomBytes } from 'node:crypto';
import type { Principal } from './principal.js';

const PREFIX = 'hearth-internal.';

/**
 * Short-lived opaque bearer tokens for Hearth's own in-process callers (the launch UI's patient
 * picker reads patients through the gateway as the signed-in user). 256 random bits each, known only
 * inside this process, valid for `ttlMs`; such requests go through the whole pipeline (audit,
 * authorize, proxy) like any other.
 */
export class InternalTokens {
  private readonly tokens = new Map<string, Principal>();

  issue(principal: Omit<Principal, 'exp' | 'claims'>, ttlMs = 60_000): string {
    this.sweep();
    const token = PREFIX + randomBytes(32).toString('base64url');
    const exp = Math.floor((Date.now() + ttlMs) / 1000);
    const claims = principal.sub === undefined ? { exp } : { sub: principal.sub, exp };
    this.tokens.set(token, { ...principal, exp, claims });
    return token;
  }

  /** The principal of a live internal token; undefined for anything else. */
  lookup(token: string): Principal | undefined {
    if (!token.startsWith(PREFIX)) return undefined;
    const principal = this.tokens.get(token);
    if (principal === undefined) return undefined;
    if (principal.exp * 1000 <= Date.now()) {
      this.tokens.delete(token);
      return undefined;
    }
    return principal;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, p] of this.tokens) if (p.exp * 1000 <= now) this.tokens.delete(token);
  }
}
