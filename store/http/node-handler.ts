import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestIdFrom } from '../../common/request-id.js';
import { badRequest } from '../fhir/outcome.js';
import { REQUEST_ID_HEADER } from '../protocol.js';
import { errorResponse } from './errors.js';
import { readBody } from './read-body.js';
import { dispatch } from './router.js';
import { constraintOf, disclosureHeaders, isTrusted } from './trusted.js';
import type { StoreContext, StoreRequest, StoreResponse } from './types.js';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** Path segments after the FHIR base; a leading `fhir` segment (the public base path) is dropped. */
function segments(pathname: string): string[] {
  let parts: string[];
  try {
    parts = pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
  } catch {
    throw badRequest('the URL path is not valid');
  }
  return parts[0] === 'fhir' ? parts.slice(1) : parts;
}

async function toStoreRequest(
  req: IncomingMessage,
  ctx: StoreContext,
  secret: string | undefined,
  requestId: string,
) {
  const url = new URL(req.url ?? '/', 'http://store');
  const trusted = isTrusted(req.headers, secret);
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers))
    headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const method = (req.method ?? 'GET').toUpperCase();
  const sreq: StoreRequest = {
    method,
    path: segments(url.pathname),
    query: url.searchParams,
    headers,
    requestId,
    trusted,
  };
  if (trusted) {
    const c = constraintOf(req.headers);
    if (c !== undefined) sreq.constraint = c;
  }
  if (WITH_BODY.has(method)) sreq.body = await readBody(req, ctx.config.maxBodyBytes);
  return sreq;
}

function send(res: ServerResponse, r: StoreResponse, head: boolean): void {
  for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
  res.statusCode = r.status;
  if (r.body === undefined || head || r.status === 204 || r.status === 304) {
    res.end();
    return;
  }
  const body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body;
  res.setHeader('content-length', body.length);
  res.end(body);
}

/** `GET /health`: the database answers. */
async function health(ctx: StoreContext): Promise<StoreResponse> {
  await ctx.engine.get('SELECT 1 AS ok', [], { deadline: Date.now() + 2000 });
  return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ok"}' };
}

/** The node:http request listener of the store. */
export function nodeHandler(ctx: StoreContext, secret: string | undefined) {
  return function handleStoreRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    let trusted = false;
    const run = async (): Promise<StoreResponse> => {
      if (req.url === '/health') return health(ctx);
      const sreq = await toStoreRequest(req, ctx, secret, requestId);
      trusted = sreq.trusted;
      return dispatch(sreq, ctx);
    };
    run()
      .catch((err: unknown) => {
        const r = errorResponse(err, ctx.log);
        if (r.status === 413) r.headers.connection = 'close';
        return r;
      })
      .then((r) => {
        if (trusted && r.disclosed !== undefined && r.status < 400)
          Object.assign(r.headers, disclosureHeaders(r.disclosed));
        send(res, r, req.method === 'HEAD');
        ctx.log.info(
          {
            reqId: requestId,
            method: req.method,
            path: new URL(req.url ?? '/', 'http://store').pathname,
            status: r.status,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          },
          'request',
        );
      })
      .catch((err: unknown) => {
        ctx.log.error({ err, reqId: requestId }, 'failed to send response');
        res.destroy();
      });
  };
}
