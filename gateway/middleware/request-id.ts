import { requestIdFrom } from '../../common/request-id.js';
import { INTERNAL_HEADER_PREFIX } from '../../store/protocol.js';
import type { GatewayMiddleware } from '../state.js';

/**
 * First step: gives the request an id (a plain client `X-Request-Id` is kept), echoes it, and
 * strips every internal `x-hearth-*` header a client sent, so none can reach a backend.
 */
export function requestId(fhirPrefix: string): GatewayMiddleware {
  return async function requestIdStep(ctx, next) {
    const headers = ctx.req.headers;
    if (Object.keys(headers).some((n) => n.startsWith(INTERNAL_HEADER_PREFIX))) {
      ctx.req.headers = Object.fromEntries(
        Object.entries(headers).filter(([n]) => !n.startsWith(INTERNAL_HEADER_PREFIX)),
      );
    }
    const id = requestIdFrom(ctx.get('x-request-id') || undefined);
    ctx.state.requestId = id;
    ctx.state.startedAt = performance.now();
    ctx.state.fhirPath = ctx.path.slice(fhirPrefix.length).replace(/^\/+/, '');
    ctx.state.audit = { entities: [], patients: [], customHeaders: {} };
    ctx.set('X-Request-Id', id);
    await next();
  };
}
