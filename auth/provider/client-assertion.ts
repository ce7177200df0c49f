import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { CLOCK_TOLERANCE, MAX_ASSERTION_LIFETIME } from './ttl.js';

/**
 * SMART's client-assertion rules beyond oidc-provider's (which checks iss, aud ∈ endpoints, exp, jti,
 * the signature and replay): sub = iss = client_id, aud is the token endpoint, exp at most 5 minutes
 * ahead, `typ` (when present) is JWT.
 */
export function assertClientAssertion(tokenEndpoint: string) {
  return (
    ctx: KoaContextWithOIDC,
    claims: Record<string, unknown>,
    header: Record<string, unknown>,
  ): Promise<void> => {
    const clientId = ctx.oidc.client?.clientId;
    if (claims['sub'] !== clientId || claims['iss'] !== clientId) {
      return Promise.reject(
        new errors.InvalidClientAuth('client assertion iss and sub must both be the client_id'),
      );
    }
    const exp = claims['exp'];
    const now = Math.floor(Date.now() / 1000);
    if (typeof exp !== 'number' || exp - now > MAX_ASSERTION_LIFETIME + CLOCK_TOLERANCE) {
      return Promise.reject(
        new errors.InvalidClientAuth('client assertion exp must be at most 5 minutes ahead'),
      );
    }
    const typ = header['typ'];
    if (typ !== undefined && (typeof typ !== 'string' || typ.toUpperCase() !== 'JWT')) {
      return Promise.reject(new errors.InvalidClientAuth('client assertion typ must be JWT'));
    }
    if (ctx.oidc.route === 'token') {
      const aud = claims['aud'];
      const accepted = new Set([tokenEndpoint, ctx.oidc.urlFor('token')]);
      const auds = Array.isArray(aud) ? aud : [aud];
      if (!auds.some((a) => typeof a === 'string' && accepted.has(a))) {
        return Promise.reject(
          new errors.InvalidClientAuth('client assertion aud must be the token endpoint URL'),
        );
      }
    }
    return Promise.resolve();
  };
}
