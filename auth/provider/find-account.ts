import type { Account, KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderDeps } from './deps.js';

/**
 * oidc-provider's account lookup: a disabled or removed user is no account, so their sessions stop
 * working and their codes and refresh tokens are refused (`invalid_grant`).
 */
export function findAccount(deps: ProviderDeps) {
  return async (_ctx: KoaContextWithOIDC, sub: string): Promise<Account | undefined> => {
    const user = await deps.users.findById(sub);
    if (user === undefined || !user.enabled) return undefined;
    return {
      accountId: user.id,
      claims: () => ({
        sub: user.id,
        fhirUser:
          user.fhirUser === undefined ? undefined : `${deps.config.fhirBaseUrl}/${user.fhirUser}`,
        name: user.username,
        preferred_username: user.username,
      }),
    };
  };
}
