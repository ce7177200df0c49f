import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CsrfField } from './views.js';

export const CSRF_FIELD = 'csrf';

/**
 * CSRF tokens for the interaction forms: an HMAC of the interaction id under the cookie key, so a
 * form only works for the browser holding that interaction (its cookie) and the page we rendered.
 */
export function csrfField(keys: readonly string[], uid: string): CsrfField {
  const key = keys[0];
  if (key === undefined) throw new Error('no cookie key');
  return { name: CSRF_FIELD, value: mac(key, uid) };
}

export function csrfValid(
  keys: readonly string[],
  uid: string,
  value: string | undefined | null,
): boolean {
  if (typeof value !== 'string' || value === '') return false;
  const given = Buffer.from(value);
  return keys.some((k) => {
    const expected = Buffer.from(mac(k, uid));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

function mac(key: string, uid: string): string {
  return createHmac('sha256', key).update(`interaction:${uid}`).digest('base64url');
}
