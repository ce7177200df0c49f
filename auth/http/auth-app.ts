import type { IncomingMessage } from 'node:http';
import Koa, { type Context, type Next } from 'koa';
import type Router from '@koa/router';
import type { Config } from '../../common/config.js';
import type { ProviderHolder } from '../provider/provider-holder.js';
import { authorizeRequest } from './authorize-request.js';
import { bearerIntrospection } from './bearer-introspection.js';
import { publicRefresh } from './public-refresh.js';
import type { Clients } from '../clients/clients.js';
import type { ProviderDeps } from '../provider/deps.js';

/** What steps before oidc-provider hand it. */
export interface AuthAppState {
  /** The request to give oidc-provider instead of the original, whose body a step has read. */
  replayedRequest?: IncomingMessage;
}

interface AppDeps {
  readonly config: Config;
  readonly holder: ProviderHolder;
  readonly router: Router;
  readonly providerDeps: () => Promise<ProviderDeps>;
  readonly clients: Clients;
}

/**
 * The Koa app behind `/auth`: the published JWKS (current and old keys), SMART Bearer introspection,
 * authorization-request rewrites, the interaction pages, then oidc-provider itself (handed the raw
 * request with `originalUrl` kept, so its URLs keep the `/auth` prefix).
 */
export function createAuthApp(deps: AppDeps): Koa {
  const issuerPath = new URL(deps.config.issuer).pathname;
  const app = new Koa({ proxy: deps.config.trustProxy });
  app.silent = true;

  app.use(async function publishedJwks(ctx: Context, next: Next) {
    if (ctx.path !== `${issuerPath}/jwks` || ctx.method !== 'GET') {
      await next();
      return;
    }
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Cache-Control', 'public, max-age=60');
    ctx.type = 'application/jwk-set+json';
    ctx.body = (await deps.holder.current()).keys.jwks;
  });
  app.use(bearerIntrospection(`${issuerPath}/token/introspection`, deps.providerDeps));
  app.use(authorizeRequest(`${issuerPath}/auth`));
  app.use(publicRefresh(`${issuerPath}/token`, deps.holder, deps.clients));
  app.use(deps.router.routes());
  app.use(async function oidcProvider(ctx: Context) {
    const { callback } = await deps.holder.current();
    const req = ((ctx.state as AuthAppState).replayedRequest ?? ctx.req) as IncomingMessage & {
      originalUrl?: string;
    };
    const url = req.url ?? '/';
    req.originalUrl = url;
    req.url = url.slice(issuerPath.length) || '/';
    ctx.respond = false;
    await callback(req, ctx.res);
  });
  return app;
}
