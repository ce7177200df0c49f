import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
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

/**
 * `/[fhir/]Type/id` with nothing else (no query, no escapes, no dot segment): the path of a plain
 * read, whose segments are the URL's own text (what URL parsing and decoding would give anyway).
 */
const PLAIN_INSTANCE = /^\/(?:fhir\/)?([A-Z][A-Za-z]*)\/([A-Za-z0-9\-.]{1,64})$/;

/** The path segments and query of a request target. */
function target(url: string): { path: string[]; query: URLSearchParams } {
  const plain = PLAIN_INSTANCE.exec(url);
  const type = plain?.[1];
  const id = plain?.[2];
  if (type !== undefined && id !== undefined && id !== '.' && id !== '..')
    return { path: [type, id], query: new URLSearchParams() };
  const parsed = new URL(url, 'http://store');
  return { path: segments(parsed.pathname), query: parsed.searchParams };
}

/** Node's request headers with one string per name (only `set-cookie` ever comes as a list). */
function flatHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  if (headers['set-cookie'] === undefined) return headers as Record<string, string | undefined>;
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function toStoreRequest(
  req: IncomingMessage,
  ctx: StoreContext,
  secret: string | undefined,
  requestId: string,
) {
  const { path, query } = target(req.url ?? '/');
  const trusted = isTrusted(req.headers, secret);
  const method = (req.method ?? 'GET').toUpperCase();
  const sreq: StoreRequest = {
    method,
    path,
    query,
    headers: flatHeaders(req.headers),
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

/**
 * Writes the response: every header in one `writeHead` (as a flat list: no per-header bookkeeping),
 * and a text body as the string itself, so node writes the head and the body in one piece.
 */
function send(res: ServerResponse, r: StoreResponse, head: boolean, requestId: string): void {
  const headers: (string | number)[] = [REQUEST_ID_HEADER, requestId];
  for (const [k, v] of Object.entries(r.headers)) headers.push(k, v);
  if (r.body === undefined || head || r.status === 204 || r.status === 304) {
    res.writeHead(r.status, headers);
    res.end();
    return;
  }
  const length = typeof r.body === 'string' ? Buffer.byteLength(r.body, 'utf8') : r.body.length;
  headers.push('content-length', length);
  res.writeHead(r.status, headers);
  res.end(r.body);
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
        send(res, r, req.method === 'HEAD', requestId);
        if (!ctx.log.isLevelEnabled('info')) return;
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
