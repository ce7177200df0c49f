import type { Context, Middleware, Next } from 'koa';
import { createIdleClock } from './middleware/idle-timeout.js';
import { setPageHeaders } from './middleware/security-headers.js';
import { createAssetServer } from './middleware/static-files.js';
import { createHomeRoutes } from './routes/home.js';
import { SAMPLE_APP, sampleAppUrls } from './sample-app.js';
import type { LaunchUiOptions } from './types.js';
import { messagePage } from './views/home.js';

/**
 * The launch UI as Koa middleware (it never listens): the clinician home at `/`, its stylesheet,
 * and the sample SMART app at `/apps/sample/`. Other paths go to `next()`. Errors become a calm
 * page; the stack goes to the log only.
 */
export function createLaunchUi(o: LaunchUiOptions): Middleware {
  const idleSeconds = Math.round((o.idleMinutes ?? 15) * 60);
  const secure = o.config.trustProxy || o.config.publicUrl.startsWith('https:');
  const idle = createIdleClock(
    () => o.auth.sessions.macKeys('launch-ui-idle'),
    idleSeconds,
    secure,
  );
  const home = createHomeRoutes(o, idle, idleSeconds);
  const serveAsset = createAssetServer();
  const sampleUrls = sampleAppUrls(o.config.publicUrl);

  async function sampleConfig(ctx: Context): Promise<void> {
    const client = (await o.auth.listClients()).find((c) => c.launchUri === sampleUrls.launchUri);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = {
      clientId: client?.clientId ?? null,
      fhirBaseUrl: o.config.fhirBaseUrl,
      redirectUri: sampleUrls.redirectUri,
      scope: SAMPLE_APP.scope,
    };
  }

  const routes: Readonly<Record<string, (ctx: Context) => Promise<void> | void>> = {
    'GET /': home.showHome,
    'HEAD /': home.showHome,
    'POST /sign-in': home.signIn,
    'POST /sign-out': home.signOut,
    'POST /launch': home.launch,
    'GET /apps/sample/config.json': sampleConfig,
  };

  return async function launchUi(ctx: Context, next: Next): Promise<void> {
    const route = routes[`${ctx.method} ${ctx.path}`];
    if (route === undefined) {
      if (ctx.path === '/apps/sample') {
        ctx.redirect('/apps/sample/');
        return;
      }
      if (!serveAsset(ctx)) await next();
      return;
    }
    try {
      await route(ctx);
    } catch (err) {
      o.log.error({ err, path: ctx.path }, 'launch-ui: request failed');
      setPageHeaders(ctx);
      ctx.status = 500;
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = messagePage(
        'Something went wrong',
        'Hearth could not complete that request. Please try again; if it keeps happening, tell your administrator.',
      );
    }
  };
}
