import { badRequest, notFound } from '../../store/fhir/outcome.js';
import { splitUrl } from '../authz/decide-bundle.js';
import { authorize } from '../authz/decide.js';
import { parseInteraction } from '../authz/interaction.js';
import { FHIR_JSON } from '../errors.js';
import type { AuthorizeDeps } from '../middleware/authorize.js';
import { authzInput } from '../middleware/authorize.js';
import type { ResourceAllows } from '../proxy/filter.js';
import type { Upstream } from '../proxy/upstream.js';
import type { GatewayMiddleware } from '../state.js';

export interface AuthzEndpointDeps extends AuthorizeDeps {
  upstream: Upstream;
  allows: ResourceAllows;
  fhirBase: string;
}

/**
 * `GET /fhir/$authz?method=GET&url=Observation/123`: the decision and its reason for the caller's
 * own token, without resource content. A resource the caller may not see answers 404 exactly like
 * a missing one, so this is no existence oracle.
 */
export function authzEndpoint(deps: AuthzEndpointDeps): GatewayMiddleware {
  return async function authzEndpointStep(ctx, next) {
    if (ctx.state.fhirPath !== '$authz') {
      await next();
      return;
    }
    ctx.state.audit.subtype = 'authz';
    ctx.state.audit.action = 'E';
    const principal = ctx.state.principal;
    if (principal === undefined) throw new Error('$authz runs after authenticate');
    if (ctx.method !== 'GET') throw badRequest('$authz is GET only');
    const method = typeof ctx.query.method === 'string' ? ctx.query.method.toUpperCase() : 'GET';
    const rawUrl = typeof ctx.query.url === 'string' ? ctx.query.url : '';
    if (rawUrl === '') throw badRequest('$authz needs a url parameter');
    const url = rawUrl.startsWith(`${deps.fhirBase}/`)
      ? rawUrl.slice(deps.fhirBase.length + 1)
      : rawUrl;
    const { path, query } = splitUrl(url);
    const ix = parseInteraction(method, path, query);
    const d = authorize(ix, authzInput(deps, principal));
    if (
      d.allow &&
      ix.id !== undefined &&
      ix.resourceType !== undefined &&
      ix.resourceType !== 'AuditEvent'
    ) {
      const res = await deps.upstream.request({
        method: 'GET',
        path: `${ix.resourceType}/${ix.id}`,
        headers: { accept: 'application/fhir+json' },
        constraint: d.constraint,
        requestId: ctx.state.requestId,
      });
      let visible = res.status === 200;
      if (visible && !deps.upstream.isBuiltInStore) {
        visible = deps.allows(
          d.constraint,
          JSON.parse(res.body.toString('utf8')) as Record<string, unknown>,
        );
      }
      if (!visible && ix.kind !== 'update') throw notFound(`${ix.resourceType}/${ix.id} not found`);
    }
    const parameter: Record<string, unknown>[] = [
      { name: 'decision', valueCode: d.allow ? 'allow' : 'deny' },
      { name: 'reason', valueString: d.reason },
    ];
    if (!d.allow)
      parameter.push(
        { name: 'rule', valueCode: d.rule },
        { name: 'status', valueInteger: d.status },
      );
    else for (const s of d.scopes) parameter.push({ name: 'scope', valueString: s });
    ctx.type = FHIR_JSON;
    ctx.body = JSON.stringify({ resourceType: 'Parameters', parameter });
  };
}
