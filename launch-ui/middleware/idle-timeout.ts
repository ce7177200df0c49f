import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

/**
 * Idle timeout of the clinician's session: an HMAC-signed "last active" cookie refreshed on every
 * page. A cookie older than the limit means the session sat idle and is ended. The MAC keys come
 * from auth (derived from its session cookie keys), so every worker and every Hearth on the same
 * auth database accepts each other's cookie. A missing or unverifiable cookie (first visit after
 * signing in at the authorization server, or a key that has since retired) starts the clock again.
 */
const COOKIE = 'hearth_ui_active';

export interface IdleClock {
  /** `idle` when the last activity is older than the limit. */
  check(ctx: Context): Promise<'active' | 'idle'>;
  /** Records activity now. */
  touch(ctx: Context): Promise<void>;
  clear(ctx: Context): void;
}

/** MAC keys, the one to sign with first (auth's `sessions.macKeys`). */
export type IdleKeys = () => Promise<readonly Buffer[]>;

export function createIdleClock(
  keys: IdleKeys,
  limitSeconds: number,
  secure: boolean,
  now: () => number = Date.now,
): IdleClock {
  const sign = (key: Buffer, value: string): Buffer =>
    Buffer.from(createHmac('sha256', key).update(value).digest('base64url'));
  const options = { httpOnly: true, sameSite: 'lax' as const, secure, path: '/', signed: false };
  return {
    async check(ctx) {
      const raw = ctx.cookies.get(COOKIE);
      const [at, mac] = raw?.split('.') ?? [];
      if (at === undefined || mac === undefined || !/^\d{1,15}$/.test(at)) return 'active';
      const given = Buffer.from(mac);
      const genuine = (await keys()).some((k) => {
        const expected = sign(k, at);
        return expected.length === given.length && timingSafeEqual(expected, given);
      });
      if (!genuine) return 'active';
      return now() - Number(at) > limitSeconds * 1000 ? 'idle' : 'active';
    },
    async touch(ctx) {
      const [key] = await keys();
      if (key === undefined) throw new Error('idle clock: no MAC key');
      const at = String(now());
      ctx.cookies.set(COOKIE, `${at}.${sign(key, at).toString()}`, options);
    },
    clear(ctx) {
      ctx.cookies.set(COOKIE, null, options);
    },
  };
}
