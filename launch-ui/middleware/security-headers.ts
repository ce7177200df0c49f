import type { Context } from 'koa';

export interface CspOptions {
  /** Extra origins forms may post (and redirect) to, e.g. the origins of registered launch URIs. */
  readonly formTargets?: readonly string[];
}

/**
 * A strict Content-Security-Policy (no inline script or style; everything from this origin) and the
 * usual hardening headers, for an HTML response.
 */
export function setPageHeaders(ctx: Context, o: CspOptions = {}): void {
  const formAction = ["'self'", ...(o.formTargets ?? [])].join(' ');
  ctx.set(
    'Content-Security-Policy',
    [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "font-src 'self'",
      "connect-src 'self'",
      `form-action ${formAction}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
  );
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
}
