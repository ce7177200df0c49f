import type { Context, Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderDeps } from './deps.js';
import { fullScope } from './token-claims.js';
import { TTL } from './ttl.js';

type Body = Record<string, unknown>;

function isBody(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v);
}

/**
 * Post-processes successful token responses (oidc-provider has no hook for response members): the
 * whole granted `scope`, the SMART launch context (patient, encounter, fhirContext,
 * need_patient_banner, smart_style_url, intent), `Pragma: no-cache`, the sliding grant lifetime on
 * refresh, and the token events.
 */
export function smartTokenResponse(deps: ProviderDeps) {
  return async function smartTokenResponse(ctx: Context, next: Next): Promise<void> {
    await next();
    const oidcCtx = ctx as unknown as KoaContextWithOIDC;
    if ((oidcCtx.oidc as KoaContextWithOIDC['oidc'] | undefined)?.route !== 'token') return;
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    const body: unknown = ctx.body;
    if (ctx.status !== 200 || !isBody(body) || typeof body['access_token'] !== 'string') return;
    const { params, entities, client } = oidcCtx.oidc;
    const grantType = String(params?.['grant_type']);
    const clientId = client?.clientId ?? '';
    if (grantType === 'client_credentials') {
      const token = entities.ClientCredentials;
      deps.events.emit('token.issued', {
        clientId,
        sub: clientId,
        grantType,
        scope: typeof body['scope'] === 'string' ? body['scope'] : '',
        jti: token?.jti,
        patient: undefined,
      });
      return;
    }
    const at = entities.AccessToken;
    if (at === undefined) return;
    const scope = fullScope(oidcCtx, at.scope);
    body['scope'] = scope;
    const grantId = at.grantId;
    const context = await deps.grantContexts.get(grantId);
    if (context !== undefined) {
      if (context.patient !== undefined) body['patient'] = context.patient;
      if (context.encounter !== undefined) body['encounter'] = context.encounter;
      if (context.fhirContext !== undefined && context.fhirContext.length > 0) {
        body['fhirContext'] = context.fhirContext;
      }
      if (context.needPatientBanner !== undefined)
        body['need_patient_banner'] = context.needPatientBanner;
      if (context.smartStyleUrl !== undefined) body['smart_style_url'] = context.smartStyleUrl;
      if (context.intent !== undefined) body['intent'] = context.intent;
    }
    const sub = at.accountId;
    if (grantType === 'refresh_token') {
      await deps.storage.extend('Grant', grantId, TTL.Grant);
      await deps.grantContexts.extend(grantId, TTL.Grant);
      deps.events.emit('token.refreshed', { clientId, sub, scope, jti: at.jti });
    } else {
      deps.events.emit('token.issued', {
        clientId,
        sub,
        grantType,
        scope,
        jti: at.jti,
        patient: context?.patient,
      });
    }
  };
}
