import type { Context, Next } from 'koa';
import { introspectJwt } from '../provider/introspection.js';
import { isJwt, verifyAccessTokenJwt } from '../provider/jwt-access-tokens.js';
import type { ProviderDeps } from '../provider/deps.js';
import { FormError, readForm } from './read-form.js';

/**
 * SMART token introspection "SHALL accept an appropriately scoped SMART access token" as Bearer:
 * a live Hearth access token of a confidential client may introspect any token; of a public client,
 * only that client's own tokens. Requests with client authentication go to oidc-provider.
 */
export function bearerIntrospection(path: string, deps: () => Promise<ProviderDeps>) {
  return async function bearerIntrospection(ctx: Context, next: Next): Promise<void> {
    const auth = ctx.get('authorization');
    if (ctx.path !== path || ctx.method !== 'POST' || !/^bearer /i.test(auth)) {
      await next();
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    const d = await deps();
    const bearer = auth.slice('bearer '.length).trim();
    const caller = await verifyAccessTokenJwt({ config: d.config, jwks: d.keys.jwks }, bearer);
    if (
      caller === undefined ||
      !(await d.liveness.isAlive(caller)) ||
      typeof caller.client_id !== 'string'
    ) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      ctx.body = { error: 'invalid_token', error_description: 'the bearer token is not valid' };
      return;
    }
    let token: string | null;
    try {
      token = (await readForm(ctx.req)).get('token');
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: err.message };
      return;
    }
    if (token === null || token === '') {
      ctx.status = 400;
      ctx.body = {
        error: 'invalid_request',
        error_description: "missing required parameter 'token'",
      };
      return;
    }
    const client = await d.clients.get(caller.client_id);
    const who = {
      clientId: caller.client_id,
      confidential: client !== undefined && client.authMethod !== 'none',
    };
    ctx.body = isJwt(token) ? await introspectJwt(d, token, who) : { active: false };
  };
}
