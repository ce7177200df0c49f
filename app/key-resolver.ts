import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/**
 * The gateway's view of auth's signing keys, in-process: a local JWK set rebuilt when a token names
 * a key id it does not know yet (after `hearth keys rotate`, possibly in another process).
 */
export function inProcessKeys(
  initial: JSONWebKeySet,
  jwks: () => Promise<JSONWebKeySet>,
  minRefreshMs = 1000,
): JWTVerifyGetKey {
  let current = createLocalJWKSet(initial);
  let refreshedAt = Date.now();
  return async (header, token) => {
    try {
      return await current(header, token);
    } catch (err) {
      // Unknown kid: re-read the key store, at most once per `minRefreshMs` (forged kids are cheap).
      if (!(err instanceof errors.JWKSNoMatchingKey) || Date.now() - refreshedAt < minRefreshMs) {
        throw err;
      }
      refreshedAt = Date.now();
      current = createLocalJWKSet(await jwks());
      return current(header, token);
    }
  };
}
