import type { Context, Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderDeps } from './deps.js';
import { isJwt, verifyAccessTokenJwt } from './jwt-access-tokens.js';

/**
 * RFC 7009 revocation of JWT access tokens (oidc-provider revokes stored tokens itself): the token id
 * is refused from now on. A token of another client, or not ours, is ignored (200, as RFC 7009 allows).
 */
export function jwtRevocation(deps: ProviderDeps) {
  return async function jwtRevocation(ctx: Context, next: Next): Promise<void> {
    await next();
    const { oidc } = ctx as unknown as KoaContextWithOIDC;
    if ((oidc as KoaContextWithOIDC['oidc'] | undefined)?.route !== 'revocation') return;
    const token = oidc.params?.['token'];
    const client = oidc.client;
    if (typeof token !== 'string' || client === undefined) return;
    const body: unknown = ctx.body;
    const unsupported =
      ctx.status === 400 &&
      typeof body === 'object' &&
      body !== null &&
      (body as { error?: unknown }).error === 'unsupported_token_type';
    if (unsupported && isJwt(token)) {
      const claims = await verifyAccessTokenJwt(
        { config: deps.config, jwks: deps.keys.jwks },
        token,
        {
          ignoreExpiry: true,
        },
      );
      if (
        claims?.jti !== undefined &&
        claims.client_id === client.clientId &&
        typeof claims.exp === 'number'
      ) {
        await deps.liveness.revoke(claims.jti, claims.exp);
        deps.events.emit('token.revoked', { clientId: client.clientId, tokenType: 'access_token' });
      }
      ctx.status = 200;
      ctx.body = '';
      return;
    }
    if (ctx.status === 200) {
      deps.events.emit('token.revoked', { clientId: client.clientId, tokenType: 'refresh_token' });
    }
  };
}
