import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderDeps } from './deps.js';

/**
 * SMART's authorization-request parameters: `aud` must name this server's FHIR base (else no code is
 * issued: an error redirect carrying `state`), and `launch` must be a live EHR launch handle issued for
 * this client; the `launch` scope needs a `launch` parameter.
 */
export function smartExtraParams(deps: ProviderDeps) {
  const base = deps.config.fhirBaseUrl;
  const same = (v: string) => v.replace(/\/+$/, '') === base;
  return {
    aud(ctx: KoaContextWithOIDC, value: string | undefined): void {
      // The client's own `resource` (RFC 8707) may stand in for `aud`; the defaulted one may not.
      const resource = ctx.query['resource'];
      if (value === undefined || value === '') {
        if (typeof resource === 'string' && same(resource)) return;
        throw new errors.InvalidRequest("missing required parameter 'aud' (the FHIR base URL)");
      }
      if (!same(value)) {
        throw new errors.InvalidRequest(`'aud' must be this server's FHIR base URL ${base}`);
      }
    },
    async launch(ctx: KoaContextWithOIDC, value: string | undefined): Promise<void> {
      const scopes = ctx.oidc.requestParamScopes;
      if (value === undefined || value === '') {
        if (scopes.has('launch')) {
          throw new errors.InvalidRequest(
            "the 'launch' scope needs the 'launch' parameter of an EHR launch",
          );
        }
        return;
      }
      const launch = await deps.launches.peek(value);
      if (launch === undefined || launch.clientId !== ctx.oidc.client?.clientId) {
        throw new errors.InvalidRequest(
          "'launch' is unknown, expired, already used or issued for another app",
        );
      }
    },
  };
}
