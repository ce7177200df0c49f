import { bearerToken, rememberBearer } from '../auth/bearer.js';
import type { InternalTokens } from '../auth/internal-tokens.js';
import { InvalidTokenError, type TokenVerifier } from '../auth/verify-token.js';
import { invalidToken, noCredentials } from '../errors.js';
import type { GatewayMiddleware } from '../state.js';

/** Paths below the FHIR base that need no token. */
export const OPEN_PATHS: ReadonlySet<string> = new Set([
  'metadata',
  '.well-known/smart-configuration',
]);

/**
 * RFC 6750 bearer authentication. No credentials: 401 with a bare challenge; a bad, expired,
 * revoked or misdirected token: 401 `invalid_token`. Tokens in the query string are refused.
 */
export function authenticate(
  verifier: TokenVerifier,
  realm: string,
  internal?: InternalTokens,
): GatewayMiddleware {
  return async function authenticateStep(ctx, next) {
    if (OPEN_PATHS.has(ctx.state.fhirPath) && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      await next();
      return;
    }
    // (Without a query string there is no access_token parameter: skip parsing one.)
    if (ctx.querystring !== '' && ctx.query.access_token !== undefined) {
      throw invalidToken(realm, 'access tokens are accepted only in the Authorization header');
    }
    const header = ctx.req.headers.authorization ?? '';
    if (header === '') throw noCredentials(realm);
    const token = bearerToken(header);
    if (token === undefined)
      throw invalidToken(realm, 'the Authorization header must be "Bearer <token>"');
    const internalPrincipal = internal?.lookup(token);
    if (internalPrincipal !== undefined) {
      ctx.state.principal = internalPrincipal;
      await next();
      return;
    }
    try {
      ctx.state.principal = await verifier.verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw invalidToken(realm, err.message);
      throw err;
    }
    rememberBearer(header, token);
    await next();
  };
}
