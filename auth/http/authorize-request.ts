import type { Context, Next } from 'koa';
import { FormError, readForm } from './read-form.js';

/**
 * Host-side rewrites of authorization requests before oidc-provider sees them:
 * - POST (SMART `authorize-post`) becomes the equivalent GET, so session cookies work the same with
 *   `SameSite=Lax` and oidc-provider's POST support (which demands `SameSite=None`) stays off;
 * - `offline_access` adds `prompt=consent` (OpenID Connect drops offline_access without it; Hearth
 *   always shows the consent page anyway).
 * Done here, not in `provider.use`, because oidc-provider derives its mount path from the raw URL.
 */
export function authorizeRequest(authorizePath: string) {
  return async function authorizeRequest(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== authorizePath || (ctx.method !== 'GET' && ctx.method !== 'POST')) {
      await next();
      return;
    }
    let params: URLSearchParams;
    if (ctx.method === 'POST') {
      try {
        params = await readForm(ctx.req);
      } catch (err) {
        if (!(err instanceof FormError)) throw err;
        ctx.status = err.status;
        ctx.body = { error: 'invalid_request', error_description: err.message };
        return;
      }
      ctx.req.method = 'GET';
      delete ctx.req.headers['content-type'];
      delete ctx.req.headers['content-length'];
    } else {
      params = new URLSearchParams(ctx.querystring);
    }
    const scopes = (params.get('scope') ?? '').split(' ');
    const prompt = (params.get('prompt') ?? '').split(' ').filter(Boolean);
    if (
      scopes.includes('offline_access') &&
      !prompt.includes('consent') &&
      !prompt.includes('none')
    ) {
      params.set('prompt', [...prompt, 'consent'].join(' '));
    }
    ctx.req.url = `${authorizePath}?${params.toString()}`;
    await next();
  };
}
