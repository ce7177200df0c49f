import type { KoaContextWithOIDC } from 'oidc-provider';
import { STATIC_SCOPES, type StaticScope } from '../scopes/index.js';
import type { ProviderDeps } from './deps.js';

/** Claims every Hearth access token carries beyond RFC 9068's (read by the gateway and introspection). */
export interface ExtraAccessTokenClaims {
  fhirUser?: string;
  patient?: string;
  encounter?: string;
  roles: string[];
  /** The grant this token belongs to; its liveness is checked per request. */
  grant?: string;
}

interface TokenLike {
  readonly kind: string;
  readonly grantId?: string | undefined;
  readonly accountId?: string | undefined;
  readonly clientId?: string | undefined;
}

/** `extraTokenClaims`: user tokens get fhirUser, patient, encounter, roles; backend tokens the client's roles. */
export function extraTokenClaims(deps: ProviderDeps) {
  return async (
    _ctx: KoaContextWithOIDC,
    token: TokenLike,
  ): Promise<ExtraAccessTokenClaims | undefined> => {
    if (token.kind === 'ClientCredentials') {
      const client =
        token.clientId === undefined ? undefined : await deps.clients.get(token.clientId);
      return { roles: [...(client?.roles ?? [])] };
    }
    if (token.kind !== 'AccessToken') return undefined;
    const out: ExtraAccessTokenClaims = { roles: [] };
    const user =
      token.accountId === undefined ? undefined : await deps.users.findById(token.accountId);
    if (user !== undefined) {
      out.roles = [...user.roles];
      if (user.fhirUser !== undefined) out.fhirUser = `${deps.config.fhirBaseUrl}/${user.fhirUser}`;
    }
    if (token.grantId !== undefined) {
      out.grant = token.grantId;
      const context = await deps.grantContexts.get(token.grantId);
      if (context?.patient !== undefined) out.patient = context.patient;
      if (context?.encounter !== undefined) out.encounter = context.encounter;
    }
    return out;
  };
}

interface ScopeSource {
  readonly scope?: string | undefined;
}
interface GrantLike {
  getOIDCScopeFiltered(scopes: Set<string>): string;
}

/**
 * The whole granted scope of a user token: the OpenID/SMART static scopes oidc-provider keeps on the
 * grant plus the resource scopes of the access token. (oidc-provider puts only the latter in a
 * resource-bound token and its response.)
 */
export function fullScope(ctx: KoaContextWithOIDC, atScope: string | undefined): string {
  const { entities, params } = ctx.oidc;
  const grant = entities.Grant as GrantLike | undefined;
  const source = (entities.AuthorizationCode ?? entities.RefreshToken) as ScopeSource | undefined;
  const requested =
    params?.['grant_type'] === 'refresh_token' && typeof params['scope'] === 'string'
      ? params['scope']
      : source?.scope;
  const wanted = new Set((requested ?? '').split(' ').filter(Boolean));
  const statics = new Set((grant?.getOIDCScopeFiltered(wanted) ?? '').split(' '));
  const ordered = STATIC_SCOPES.filter((s: StaticScope) => statics.has(s));
  const clinical = (atScope ?? '').split(' ').filter(Boolean);
  return [...ordered, ...clinical].join(' ');
}
