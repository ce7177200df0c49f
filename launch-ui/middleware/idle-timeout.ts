import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

/**
 * Idle timeout of the clinician's session: an HMAC-signed "last active" cookie refreshed on every
 * page. A cookie older than the limit means the session sat idle and is ended; a missing or
 * unverifiable one (first visit after signing in at the authorization server, or another worker's
 * key) starts the clock again.
 */
const COOKIE = 'hearth_ui_active';

export interface IdleClock {
  /** `idle` when the last activity is older than the limit. */
  check(ctx: Context): 'active' | 'idle';
  /** Records activity now. */
  touch(ctx: Context): void;
  clear(ctx: Context): void;
}

export function createIdleClock(
  key: Buffer,
  limitSeconds: number,
  secure: boolean,
  now: () => number = Date.now,
): IdleClock {
  const sign = (value: string): string =>
    createHmac('sha256', key).update(value).digest('base64url');
  const options = { httpOnly: true, sameSite: 'lax' as const, secure, path: '/', signed: false };
  return {
    check(ctx) {
      const raw = ctx.cookies.get(COOKIE);
      const [at, mac] = raw?.split('.') ?? [];
      if (at === undefined || mac === undefined || !/^\d{1,15}$/.test(at)) return 'active';
      const expected = Buffer.from(sign(at));
      const given = Buffer.from(mac);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'active';
      return now() - Number(at) > limitSeconds * 1000 ? 'idle' : 'active';
    },
    touch(ctx) {
      const at = String(now());
      ctx.cookies.set(COOKIE, `${at}.${sign(at)}`, options);
    },
    clear(ctx) {
      ctx.cookies.set(COOKIE, null, options);
    },
  };
}
