import { errors, type Client, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import { grantScopes } from '../grant/grant-scopes.js';
import { parseScopes } from '../scopes/index.js';
import type { ProviderDeps } from './deps.js';
import { TTL } from './ttl.js';

/**
 * The FHIR server as oidc-provider's one resource server. SMART's clinical scopes are resource-server
 * scopes computed per request (oidc-provider has no dynamic scopes): at the authorization endpoint the
 * requested ones (the consent step decides), at the token endpoint what the code, refresh token or
 * client may still have, re-checked against the client's registration and the current roles.
 */
export function resourceIndicators(deps: ProviderDeps) {
  const base = deps.config.fhirBaseUrl;
  return {
    enabled: true,
    defaultResource: (_ctx: KoaContextWithOIDC, _client: Client, oneOf?: readonly string[]) =>
      Promise.resolve(oneOf === undefined ? base : oneOf.includes(base) ? base : oneOf),
    useGrantedResource: () => Promise.resolve(true),
    async getResourceServerInfo(
      ctx: KoaContextWithOIDC,
      indicator: string,
      client: Client,
    ): Promise<ResourceServer> {
      if (indicator.replace(/\/+$/, '') !== base) {
        throw new errors.InvalidTarget(`the only resource (aud) here is the FHIR base URL ${base}`);
      }
      return {
        scope: await resourceScope(deps, ctx, client),
        audience: base,
        accessTokenFormat: 'jwt',
        accessTokenTTL: TTL.AccessToken,
        jwt: { sign: { alg: 'RS256' } },
      };
    },
  };
}

function clinicalTokens(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter((t) => parseScopes(t).clinical.length === 1);
}

async function resourceScope(
  deps: ProviderDeps,
  ctx: KoaContextWithOIDC,
  client: Client,
): Promise<string> {
  const { route, params, entities } = ctx.oidc;
  const requested = typeof params?.['scope'] === 'string' ? params['scope'] : undefined;
  if (route !== 'token') {
    // Authorization request / resume: the consent step computes the grant.
    return clinicalTokens(requested)
      .filter((t) => !t.startsWith('system/'))
      .join(' ');
  }
  const record = await deps.clients.get(client.clientId);
  if (record === undefined) throw new errors.InvalidClient('client not found');
  const grantType = params?.['grant_type'];
  if (grantType === 'client_credentials') {
    const result = grantScopes({
      requested: requested ?? '',
      clientAllowed: record.scope,
      roleLimits: deps.roles.limits(record.roles),
      flow: 'system',
    });
    if (result.clinical.length === 0) {
      throw new errors.InvalidScope(
        'none of the requested system/ scopes is allowed for this client',
        requested ?? '',
      );
    }
    // The token carries exactly what was granted (the intersection may narrow a requested scope).
    if (params !== undefined) params['scope'] = result.scope;
    return result.scope;
  }
  const source = grantType === 'refresh_token' ? entities.RefreshToken : entities.AuthorizationCode;
  const accountId = source?.accountId;
  const user = accountId === undefined ? undefined : await deps.users.findById(accountId);
  if (user === undefined || !user.enabled)
    throw new errors.InvalidGrant('the user is no longer active');
  const held = source?.scope ?? '';
  const asked = grantType === 'refresh_token' && requested !== undefined ? requested : held;
  const result = grantScopes({
    requested: clinicalTokens(asked).join(' '),
    clientAllowed: record.scope,
    roleLimits: deps.roles.limits(user.roles),
    flow: 'user',
    patientUser: user.fhirUser?.startsWith('Patient/') === true,
  });
  return result.clinical.length === 0 ? '' : clinicalTokens(result.scope).join(' ');
}
