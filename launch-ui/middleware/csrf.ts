import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

/**
 * CSRF protection for the launch UI's own forms (double-submit): a random token in an HttpOnly,
 * SameSite=Strict cookie, repeated in a hidden field; a POST whose field does not match is refused.
 */
export const CSRF_FIELD = '_csrf';
const COOKIE = 'hearth_ui_csrf';

export interface CookieSecurity {
  readonly secure: boolean;
}

/** The token for this browser, creating (and setting) one when it has none. */
export function csrfToken(ctx: Context, o: CookieSecurity): string {
  const existing = ctx.cookies.get(COOKIE);
  if (existing !== undefined && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  ctx.cookies.set(COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: o.secure,
    path: '/',
    signed: false,
  });
  return token;
}

/** True when the submitted field matches this browser's cookie. */
export function csrfValid(ctx: Context, submitted: string | null): boolean {
  const cookie = ctx.cookies.get(COOKIE);
  if (cookie === undefined || submitted === null) return false;
  const a = Buffer.from(cookie);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}
