import type { Context, Next } from 'koa';
import type { Clients } from '../clients/clients.js';
import type { ProviderHolder } from '../provider/provider-holder.js';
import type { AuthAppState } from './auth-app.js';
import { FormError, readForm } from './read-form.js';
import { replayRequest } from './replay-request.js';

/**
 * SMART lets a public app refresh with just `grant_type`, `refresh_token` (and `scope`): no
 * `client_id` (fhirclient does so). oidc-provider needs to know the client, so for an unauthenticated
 * refresh request the client is taken from the refresh token itself when that client is public. The
 * body is read here, and oidc-provider reads it again from a replay of the request
 * (`ctx.state.replayedRequest`).
 */
export function publicRefresh(tokenPath: string, holder: ProviderHolder, clients: Clients) {
  return async function publicRefresh(ctx: Context, next: Next): Promise<void> {
    if (
      ctx.path !== tokenPath ||
      ctx.method !== 'POST' ||
      ctx.get('authorization') !== '' ||
      !ctx.is('application/x-www-form-urlencoded')
    ) {
      await next();
      return;
    }
    let form: URLSearchParams;
    try {
      form = await readForm(ctx.req, 56 * 1024);
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      ctx.status = err.status;
      ctx.body = { error: 'invalid_request', error_description: err.message };
      return;
    }
    const token = form.get('refresh_token');
    if (
      form.get('grant_type') === 'refresh_token' &&
      token !== null &&
      !form.has('client_id') &&
      !form.has('client_assertion')
    ) {
      const rt = await (await holder.current()).provider.RefreshToken.find(token);
      const clientId = rt?.clientId;
      if (clientId !== undefined && (await clients.get(clientId))?.authMethod === 'none') {
        form.set('client_id', clientId);
      }
    }
    (ctx.state as AuthAppState).replayedRequest = replayRequest(
      ctx.req,
      Buffer.from(form.toString()),
    );
    await next();
  };
}
