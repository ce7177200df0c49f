import type { IncomingHttpHeaders } from 'node:http';
import { requestIdFrom } from '../../common/request-id.js';
import { INTERNAL_HEADER_PREFIX } from '../../store/protocol.js';
import type { GatewayMiddleware } from '../state.js';

function hasInternalHeader(headers: IncomingHttpHeaders): boolean {
  for (const name in headers) if (name.startsWith(INTERNAL_HEADER_PREFIX)) return true;
  return false;
}

/** The path after its first `from` characters, without leading slashes. */
function belowPrefix(path: string, from: number): string {
  let start = from;
  while (path.charCodeAt(start) === 0x2f) start += 1;
  return path.slice(start);
}

/**
 * First step: gives the request an id (a plain client `X-Request-Id` is kept), echoes it, and
 * strips every internal `x-hearth-*` header a client sent, so none can reach a backend.
 */
export function requestId(fhirPrefix: string): GatewayMiddleware {
  return async function requestIdStep(ctx, next) {
    const headers = ctx.req.headers;
    if (hasInternalHeader(headers)) {
      ctx.req.headers = Object.fromEntries(
        Object.entries(headers).filter(([n]) => !n.startsWith(INTERNAL_HEADER_PREFIX)),
      );
    }
    const id = requestIdFrom(headers['x-request-id'] || undefined);
    ctx.state.requestId = id;
    ctx.state.startedAt = performance.now();
    ctx.state.fhirPath = belowPrefix(ctx.path, fhirPrefix.length);
    ctx.state.audit = { entities: [], patients: [], customHeaders: {} };
    ctx.set('X-Request-Id', id);
    await next();
  };
}
