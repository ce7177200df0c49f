import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Principal } from './principal.js';

/** What token verification needs, injected by the composition root (never auth internals). */
export interface TokenVerifierDeps {
  /** The OAuth issuer (`config.issuer`). */
  issuer: string;
  /** The FHIR base URL (`config.fhirBaseUrl`): every access token's `aud`. */
  audience: string;
  /** auth's signing keys: an in-process JWKS following rotation, or createRemoteJWKSet(AUTH_JWKS_URL). */
  getKey: JWTVerifyGetKey;
  /** auth's per-request liveness check: revoked token, disabled user, removed client, changed roles. */
  isTokenAlive(claims: JWTPayload): boolean | Promise<boolean>;
  /** Allowed clock skew for exp/nbf/iat, seconds (default 30). */
  clockToleranceSec?: number;
  /** Most verified tokens kept in the cache (default 10,000). */
  cacheSize?: number;
}

/** Asymmetric algorithms only: no `none`, no HMAC (an HS256 token "signed" with a public key fails). */
export const ALLOWED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

/** The description a token that failed auth's liveness check is refused with. */
export const NOT_ALIVE = 'the token has been revoked or its grant is no longer valid';

/** A token whose signature and claims are verified, and auth's liveness check of it, under way. */
export interface StartedVerification {
  principal: Principal;
  /** Whether auth says the token may still be used (never rejects: a failed check is false). */
  alive: Promise<boolean>;
}

export interface TokenVerifier {
  /**
   * Verifies a bearer token's signature and claims (throwing InvalidTokenError with a safe
   * description) and starts auth's liveness check without waiting for it: the caller must not let
   * anything leave before `alive` is true (a false one is refused with {@link NOT_ALIVE}).
   */
  start(token: string): Promise<StartedVerification>;
}

function stringList(v: unknown): string[] {
  if (typeof v === 'string') return v.split(/\s+/).filter((s) => s !== '');
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string');
  return [];
}

/** `Type/id` from a fhirUser that is relative or an absolute URL ending in `/Type/id`. */
export function relativeReference(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(v);
  return m === null ? undefined : `${m[1] ?? ''}/${m[2] ?? ''}`;
}

export function principalFromClaims(claims: JWTPayload): Principal {
  const clientId =
    typeof claims.client_id === 'string'
      ? claims.client_id
      : typeof claims.azp === 'string'
        ? claims.azp
        : undefined;
  return {
    sub: claims.sub,
    clientId,
    fhirUser: relativeReference(claims.fhirUser),
    patient: typeof claims.patient === 'string' ? claims.patient : undefined,
    scopes: stringList(claims.scope ?? claims.scp),
    roles: stringList(claims.roles),
    exp: claims.exp ?? 0,
    claims,
  };
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed)
    return `the token's "${err.claim}" claim is not valid here`;
  if (err instanceof errors.JOSEAlgNotAllowed)
    return 'the token is signed with an algorithm that is not allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return 'the token signature is not valid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'the token is signed with an unknown key';
  return 'the token is not a valid access token';
}

/**
 * Verifies RFC 9068 JWT access tokens: `typ` at+jwt, asymmetric algorithm, known key, `iss`,
 * `aud` = the FHIR base, `exp`/`nbf` with small skew. A verified token is cached until it expires,
 * but auth's liveness check runs on every request, so revocation takes effect at once.
 */
export function createTokenVerifier(deps: TokenVerifierDeps): TokenVerifier {
  // Keyed by the token itself: a Map hashes the string once per request object, far cheaper than
  // a SHA-256 of ~1 kB per request (the rate limiter keeps tokens as keys too).
  const cache = new Map<string, Principal>();
  const max = deps.cacheSize ?? 10_000;
  const start = async (token: string): Promise<StartedVerification> => {
    const key = token;
    let principal = cache.get(key);
    if (principal !== undefined && principal.exp * 1000 <= Date.now()) {
      cache.delete(key);
      principal = undefined;
    }
    if (principal === undefined) {
      try {
        const { payload } = await jwtVerify(token, deps.getKey, {
          issuer: deps.issuer,
          audience: deps.audience,
          algorithms: ALLOWED_ALGORITHMS,
          typ: 'at+jwt',
          clockTolerance: deps.clockToleranceSec ?? 30,
          requiredClaims: ['exp', 'iat'],
        });
        principal = principalFromClaims(payload);
      } catch (err) {
        throw new InvalidTokenError(describe(err));
      }
      if (cache.size >= max) {
        const oldest = cache.keys().next();
        if (oldest.done !== true) cache.delete(oldest.value);
      }
      cache.set(key, principal);
    }
    const claims = principal.claims;
    const alive = (async (): Promise<boolean> => {
      let answer: boolean;
      try {
        const a = deps.isTokenAlive(claims);
        answer = typeof a === 'boolean' ? a : await a;
      } catch {
        answer = false;
      }
      if (!answer) cache.delete(key);
      return answer;
    })();
    return { principal, alive };
  };
  return { start };
}
