import type { Context, Next } from 'koa';
import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderDeps } from './deps.js';
import { introspectionBody, verifyAccessTokenJwt } from './jwt-access-tokens.js';

/** Who may learn about a token: a confidential client (e.g. a resource server) any; a public client its own. */
export function mayIntrospect(
  caller: { clientId: string; confidential: boolean },
  tokenClientId: unknown,
): boolean {
  return caller.confidential || caller.clientId === tokenClientId;
}

/** Introspection of a JWT access token (oidc-provider does not store those, so it cannot). */
export async function introspectJwt(
  deps: ProviderDeps,
  token: string,
  caller: { clientId: string; confidential: boolean },
): Promise<Record<string, unknown>> {
  const claims = await verifyAccessTokenJwt({ config: deps.config, jwks: deps.keys.jwks }, token);
  const active =
    claims !== undefined &&
    (await deps.liveness.isAlive(claims)) &&
    mayIntrospect(caller, claims.client_id);
  deps.events.emit('token.introspected', { clientId: caller.clientId, active, jti: claims?.jti });
  return active ? introspectionBody(claims) : { active: false };
}

/** Answers introspection of JWT access tokens after oidc-provider authenticated the caller. */
export function jwtIntrospection(deps: ProviderDeps) {
  return async function jwtIntrospection(ctx: Context, next: Next): Promise<void> {
    await next();
    const { oidc } = ctx as unknown as KoaContextWithOIDC;
    if ((oidc as KoaContextWithOIDC['oidc'] | undefined)?.route !== 'introspection') return;
    const body: unknown = ctx.body;
    const client: Client | undefined = oidc.client;
    const token = oidc.params?.['token'];
    if (
      ctx.status === 400 &&
      typeof body === 'object' &&
      body !== null &&
      (body as { error?: unknown }).error === 'unsupported_token_type' &&
      client !== undefined &&
      typeof token === 'string'
    ) {
      ctx.status = 200;
      ctx.body = await introspectJwt(deps, token, {
        clientId: client.clientId,
        confidential: client.clientAuthMethod !== 'none',
      });
    }
  };
}

/** Introspection policy for stored tokens (refresh tokens). */
export function introspectionAllowedPolicy(
  _ctx: KoaContextWithOIDC,
  client: Client,
  token: { clientId?: string | undefined },
): Promise<boolean> {
  return Promise.resolve(
    mayIntrospect(
      { clientId: client.clientId, confidential: client.clientAuthMethod !== 'none' },
      token.clientId,
    ),
  );
}
