import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { CLIENT_ASSERTION_ALGS } from '../discovery.js';
import { STATIC_SCOPES } from '../scopes/index.js';
import { adapterFactory } from './adapter.js';
import { assertClientAssertion } from './client-assertion.js';
import type { ProviderDeps } from './deps.js';
import { findAccount } from './find-account.js';
import { smartInteractionPolicy } from './interaction-policy.js';
import { introspectionAllowedPolicy, jwtIntrospection } from './introspection.js';
import { resourceIndicators } from './resource-server.js';
import { jwtRevocation } from './revocation.js';
import { smartExtraParams } from './smart-params.js';
import { extraTokenClaims, fullScope } from './token-claims.js';
import { smartTokenResponse } from './token-response.js';
import { CLOCK_TOLERANCE, TTL } from './ttl.js';

/** Interaction pages live inside the issuer: `/auth/interaction/<uid>`. */
export const INTERACTION_PATH = '/interaction';

/** Cookie settings: `SameSite=None; Secure` behind TLS (POST from other sites keeps the session). */
export function cookieOptions(secure: boolean) {
  return secure
    ? { httpOnly: true, sameSite: 'none' as const, secure: true, path: '/' }
    : { httpOnly: true, sameSite: 'lax' as const, path: '/' };
}

/** The configuration that decides which client registrations are valid (shared with the CLI). */
export function clientSchemaConfiguration() {
  return {
    scopes: [...STATIC_SCOPES],
    responseTypes: ['code'],
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    enabledJWA: {
      clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGS],
      idTokenSigningAlgValues: ['RS256'],
    },
    extraClientMetadata: { properties: ['launch_uri', 'smart_scope'] },
  } satisfies Configuration;
}

/** The oidc-provider instance configured for SMART App Launch 2.2 (see ../shared/reference). */
export function createProvider(deps: ProviderDeps): Provider {
  const { config } = deps;
  const secure = config.trustProxy || config.publicUrl.startsWith('https:');
  const cookies = cookieOptions(secure);
  const configuration: Configuration = {
    adapter: adapterFactory(deps.storage, deps.clients),
    jwks: { keys: [deps.keys.signing] },
    cookies: { keys: deps.keys.cookieKeys, long: cookies, short: cookies },
    findAccount: findAccount(deps),
    ...clientSchemaConfiguration(),
    claims: {
      openid: ['sub'],
      fhirUser: ['fhirUser'],
      profile: ['name', 'preferred_username'],
    },
    conformIdTokenClaims: false,
    clockTolerance: CLOCK_TOLERANCE,
    assertJwtClientAuthClaimsAndHeader: assertClientAssertion(`${config.issuer}/token`),
    pkce: { required: () => true },
    extraParams: smartExtraParams(deps),
    extraTokenClaims: extraTokenClaims(deps) as unknown as Configuration['extraTokenClaims'],
    formats: {
      customizers: {
        jwt(ctx, token, jwt) {
          if (token.kind === 'AccessToken') jwt.payload['scope'] = fullScope(ctx, token.scope);
        },
      },
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowedPolicy },
      revocation: { enabled: true },
      resourceIndicators: resourceIndicators(deps),
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = deps.views
            .error({
              title: 'Sign out',
              message: 'Signing out…',
            })
            .replace('</body>', `${form}<script>document.forms[0].submit()</script></body>`);
          return Promise.resolve();
        },
      },
    },
    interactions: {
      url: (_ctx, interaction) =>
        Promise.resolve(`${new URL(config.issuer).pathname}${INTERACTION_PATH}/${interaction.uid}`),
      policy: smartInteractionPolicy(deps),
    },
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId === undefined ? undefined : ctx.oidc.provider.Grant.find(grantId);
    },
    issueRefreshToken: (_ctx, client, code) =>
      Promise.resolve(
        client.grantTypeAllowed('refresh_token') &&
          (code.scopes.has('offline_access') || code.scopes.has('online_access')),
      ),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: TTL.AccessToken,
      ClientCredentials: TTL.ClientCredentials,
      AuthorizationCode: TTL.AuthorizationCode,
      IdToken: TTL.IdToken,
      RefreshToken: TTL.RefreshToken,
      Grant: TTL.Grant,
      Interaction: TTL.Interaction,
      Session: TTL.Session,
    },
    // Browser apps call the token endpoint cross-origin; PKCE and client authentication, not CORS,
    // protect it.
    clientBasedCORS: () => true,
    fetch: (url, options) => {
      // Client jwks_uri fetches are SSRF-guarded (no loopback/private addresses) unless the tests
      // ask for loopback with ALLOW_LOOPBACK_JWKS=1. oidc-provider adds a 2.5 s timeout.
      if (config.allowLoopbackJwks) delete (options as { dispatcher?: unknown }).dispatcher;
      return globalThis.fetch(url, options);
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = deps.views.error({
        title: 'Sign-in could not continue',
        message: out.error_description ?? out.error,
      });
      return Promise.resolve();
    },
  };
  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy;
  provider.use(smartTokenResponse(deps));
  provider.use(jwtIntrospection(deps));
  provider.use(jwtRevocation(deps));
  provider.on('grant.revoked', (_ctx: unknown, grantId: string) => {
    deps.grantContexts.remove(grantId).catch((err: unknown) => {
      deps.log.error({ err, grantId }, 'removing a revoked grant context failed');
    });
  });
  const clientAuthFailure = (ctx: KoaContextWithOIDC, err: errors.OIDCProviderError) => {
    if (err.error === 'invalid_client') {
      deps.events.emit('client.auth.failure', {
        clientId: ctx.oidc.client?.clientId,
        reason: err.error_description ?? 'client authentication failed',
      });
    }
  };
  provider.on('grant.error', clientAuthFailure);
  provider.on('introspection.error', clientAuthFailure);
  provider.on('revocation.error', clientAuthFailure);
  provider.on('server_error', (_ctx: unknown, err: unknown) => {
    deps.log.error({ err }, 'oidc-provider error');
  });
  return provider;
}
