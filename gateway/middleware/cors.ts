import type { GatewayMiddleware } from '../state.js';

export interface CorsOptions {
  /**
   * Whether a browser origin may call the API. Tokens travel in `Authorization`, never in cookies,
   * so reflecting an origin (without credentials) exposes nothing a token holder could not read.
   * Default: every origin.
   */
  allowOrigin?: (origin: string) => boolean;
}

const ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const EXPOSE =
  'Location, Content-Location, ETag, Last-Modified, X-Request-Id, WWW-Authenticate, Retry-After';
const DEFAULT_ALLOW_HEADERS =
  'Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match, If-None-Exist, If-Modified-Since, X-Request-Id';

/**
 * CORS (a preflight needs no token and is answered here) and security headers on every answer.
 */
export function corsAndSecurityHeaders(opts: CorsOptions = {}): GatewayMiddleware {
  const allow = opts.allowOrigin ?? (() => true);
  return async function corsAndSecurityHeadersStep(ctx, next) {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    ctx.set('Referrer-Policy', 'no-referrer');
    // Nothing before this step sets Vary: set it outright rather than parse and append.
    if (ctx.res.getHeader('vary') === undefined) ctx.set('Vary', 'Origin');
    else ctx.vary('Origin');
    const origin = ctx.req.headers.origin ?? '';
    const allowed = origin !== '' && allow(origin);
    if (allowed) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Expose-Headers', EXPOSE);
    }
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method') !== '') {
      ctx.state.audit.skip = true;
      ctx.status = 204;
      if (allowed) {
        ctx.set('Access-Control-Allow-Methods', ALLOW_METHODS);
        const requested = ctx.get('access-control-request-headers');
        ctx.set(
          'Access-Control-Allow-Headers',
          requested === '' ? DEFAULT_ALLOW_HEADERS : requested,
        );
        ctx.set('Access-Control-Max-Age', '600');
      }
      return;
    }
    try {
      await next();
    } finally {
      // Answers carry health data (errors too): never stored by caches, unless the backend said
      // otherwise.
      if (ctx.res.getHeader('cache-control') === undefined) ctx.set('Cache-Control', 'no-store');
    }
  };
}
