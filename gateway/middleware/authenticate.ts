import { bearerToken, rememberBearer } from '../auth/bearer.js';
import type { InternalTokens } from '../auth/internal-tokens.js';
import { InvalidTokenError, NOT_ALIVE, type TokenVerifier } from '../auth/verify-token.js';
import { dropBody, invalidToken, noCredentials } from '../errors.js';
import type { GatewayContext, GatewayMiddleware } from '../state.js';

/** Paths below the FHIR base that need no token. */
export const OPEN_PATHS: ReadonlySet<string> = new Set([
  'metadata',
  '.well-known/smart-configuration',
]);

/**
 * Whether the rest of the pipeline may run while auth's liveness check of the token is under way:
 * a GET or HEAD of the REST API (reads, searches, history, AuditEvent), which changes nothing, and
 * whose answer is held until the check has answered. Operations (`$…`, `$export` starts a job) and
 * the Bulk Data status and file paths (`_operations/…`, `_bulk-files/…`) wait for it first.
 */
function readsOnly(ctx: GatewayContext): boolean {
  const path = ctx.state.fhirPath;
  return (
    (ctx.method === 'GET' || ctx.method === 'HEAD') && !path.includes('$') && !path.startsWith('_')
  );
}

/**
 * Runs the rest of the pipeline while the liveness check is under way, and withdraws its answer if
 * the token turns out not to be alive: the headers it set and the body go, the audit notes are put
 * back as they were (nothing was disclosed), and the request fails with 401 `invalid_token` as if
 * the check had answered first. Nothing leaves before: Koa writes the response only once every
 * step has returned, and the audit step, outermost, records the final answer.
 */
async function runBeforeAnswer(
  ctx: GatewayContext,
  next: () => Promise<unknown>,
  alive: Promise<boolean>,
  realm: string,
): Promise<void> {
  const headers = new Set(Object.keys(ctx.response.headers));
  const a = ctx.state.audit;
  const audit = {
    ...a,
    entities: [...a.entities],
    patients: [...a.patients],
    customHeaders: { ...a.customHeaders },
  };
  let failure: { err: unknown } | undefined;
  try {
    await next();
  } catch (err) {
    failure = { err };
  }
  if (!(await alive)) {
    for (const name of Object.keys(ctx.response.headers)) if (!headers.has(name)) ctx.remove(name);
    dropBody(ctx);
    ctx.state.audit = audit;
    throw invalidToken(realm, NOT_ALIVE);
  }
  if (failure !== undefined) throw failure.err;
}

/**
 * RFC 6750 bearer authentication. No credentials: 401 with a bare challenge; a bad, expired,
 * revoked or misdirected token: 401 `invalid_token`. Tokens in the query string are refused.
 * A request that only reads goes on while auth's liveness check runs (on PostgreSQL a round trip
 * of its own), and its answer is released only once the check says the token is alive.
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
    let alive: Promise<boolean>;
    try {
      const started = await verifier.start(token);
      ctx.state.principal = started.principal;
      alive = started.alive;
    } catch (err) {
      if (err instanceof InvalidTokenError) throw invalidToken(realm, err.message);
      throw err;
    }
    if (readsOnly(ctx)) {
      rememberBearer(header, token);
      await runBeforeAnswer(ctx, next, alive, realm);
      return;
    }
    if (!(await alive)) throw invalidToken(realm, NOT_ALIVE);
    rememberBearer(header, token);
    await next();
  };
}
