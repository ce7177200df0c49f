import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { ProviderDeps } from './deps.js';
import type { AccessTokenClaims } from '../types.js';

/** Whether a token string looks like a JWT (Hearth access tokens are; refresh tokens are opaque). */
export function isJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
}

/**
 * Verifies a Hearth access token against the published keys: signature, `typ: at+jwt`, issuer,
 * audience (the FHIR base) and expiry. Undefined when any check fails.
 */
export async function verifyAccessTokenJwt(
  deps: Pick<ProviderDeps, 'config'> & { jwks: ProviderDeps['keys']['jwks'] },
  token: string,
  options: { ignoreExpiry?: boolean } = {},
): Promise<AccessTokenClaims | undefined> {
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(deps.jwks), {
      issuer: deps.config.issuer,
      audience: deps.config.fhirBaseUrl,
      typ: 'at+jwt',
      algorithms: ['RS256'],
      ...(options.ignoreExpiry === true
        ? { currentDate: new Date((decodeJwt(token).iat ?? 0) * 1000) }
        : {}),
    });
    return payload;
  } catch {
    return undefined;
  }
}

/** The RFC 7662 + SMART introspection answer for a verified, live access token. */
export function introspectionBody(claims: AccessTokenClaims): Record<string, unknown> {
  const visible = Object.entries(claims).filter(([k]) => k !== 'grant');
  return { active: true, token_type: 'Bearer', ...Object.fromEntries(visible) };
}
