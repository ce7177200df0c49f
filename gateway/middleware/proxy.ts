import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Logger } from '../../common/logger.js';
import { badRequest, notFound, forbidden } from '../../store/fhir/outcome.js';
import { INTERNAL_HEADER_PREFIX, type AccessConstraint } from '../../store/protocol.js';
import type { FhirInteraction } from '../authz/interaction.js';
import { FHIR_JSON } from '../errors.js';
import {
  disclosureOf,
  noteDisclosure,
  storeDisclosure,
  type PatientsOf,
} from '../proxy/disclosure.js';
import { filterResponse, type ResourceAllows } from '../proxy/filter.js';
import type { UrlRewriter } from '../proxy/rewrite.js';
import { decodeUpstreamBody, type BufferedResponse, type Upstream } from '../proxy/upstream.js';
import type { GatewayContext, GatewayMiddleware } from '../state.js';
import { bundleDecisionOf } from './authorize.js';
import { executeBatch } from './batch.js';

export interface ProxyDeps {
  upstream: Upstream;
  /** For an external upstream: base-URL rewriting both ways. */
  rewriter: UrlRewriter | undefined;
  allows: ResourceAllows;
  patientsOf: PatientsOf;
  log: Logger;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'proxy-connection',
  'upgrade',
  'trailer',
]);

export function copyResponseHeaders(
  ctx: GatewayContext,
  headers: IncomingHttpHeaders,
  rewrite?: (s: string) => string,
  withLength = true,
): void {
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith(INTERNAL_HEADER_PREFIX))
      continue;
    if (name === 'content-length' && !withLength) continue;
    if (name === 'set-cookie') continue;
    const v = Array.isArray(value) ? value.join(', ') : value;
    ctx.set(
      name,
      rewrite !== undefined && (name === 'location' || name === 'content-location')
        ? rewrite(v)
        : v,
    );
  }
}

function isRestricted(c: AccessConstraint): boolean {
  return (
    Object.values(c.types).some((a) => a.compartment !== undefined || (a.anyOf?.length ?? 0) > 0) ||
    c.types['*'] === undefined
  );
}

/** For an external upstream: narrows a confined search in the query itself where FHIR can say it. */
export function narrowQuery(
  ix: FhirInteraction,
  path: string,
  query: URLSearchParams,
  c: AccessConstraint,
): string {
  const type = ix.resourceType;
  const access = type === undefined ? undefined : (c.types[type] ?? c.types['*']);
  let p = path;
  if (ix.kind === 'search-type' && type !== undefined && access !== undefined) {
    const pid = access.compartment?.slice('Patient/'.length);
    if (pid !== undefined) {
      if (type === 'Patient') query.append('_id', pid);
      else if (ix.compartmentPatient === undefined)
        p = `Patient/${pid}/${type}${path.endsWith('/_search') ? '/_search' : ''}`;
    }
    if (access.anyOf?.length === 1)
      for (const [k, v] of new URLSearchParams(access.anyOf[0])) query.append(k, v);
  }
  const qs = query.toString();
  return qs === '' ? p : `${p}?${qs}`;
}

/** Answers with the built-in store's whole response (sent after the audit record commits). */
function respondBuffered(ctx: GatewayContext, res: BufferedResponse): void {
  ctx.status = res.status;
  const bodiless = ctx.method === 'HEAD' || ctx.status === 204 || ctx.status === 304;
  copyResponseHeaders(ctx, res.headers, undefined, ctx.method === 'HEAD');
  if (bodiless) return;
  ctx.body = res.body;
}

function parseJsonOrUndefined(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    res.on('error', reject);
  });
}

/**
 * Answers from an external upstream's buffered response: URLs rewritten to the public base, the
 * body filtered by the constraint (a hidden resource is a 404, like a missing one), and what was
 * disclosed noted for the audit.
 */
export function respondFiltered(
  ctx: GatewayContext,
  deps: ProxyDeps,
  res: BufferedResponse,
  c: AccessConstraint,
): void {
  // One answer for "not there" and "not yours": the upstream's own 404 (and, under restricted
  // access, 410 for a deleted resource that may not have been the caller's) becomes the gateway's.
  if (res.status === 404 || (res.status === 410 && isRestricted(c)))
    throw notFound('resource not found');
  const rewrite = deps.rewriter?.toPublic ?? ((s: string) => s);
  let text = res.body.toString('utf8');
  let parsed: unknown;
  const json = /json/.test(res.headers['content-type'] ?? '');
  if (json && text !== '') {
    try {
      parsed = JSON.parse(rewrite(text));
    } catch {
      parsed = undefined;
    }
  }
  if (parsed !== undefined && res.status < 300) {
    const f = filterResponse(parsed, c, deps.allows);
    if (f.hidden) throw notFound('resource not found');
    parsed = f.body;
    noteDisclosure(ctx.state.audit, disclosureOf(parsed, deps.patientsOf));
    text = JSON.stringify(parsed);
  } else {
    text = rewrite(text);
  }
  ctx.status = res.status;
  copyResponseHeaders(ctx, res.headers, rewrite, false);
  if (ctx.method !== 'HEAD' && res.status !== 204 && res.status !== 304) {
    ctx.body = text;
    if (json) ctx.type = res.headers['content-type'] ?? FHIR_JSON;
  }
}

async function guardExternalWrite(
  ctx: GatewayContext,
  deps: ProxyDeps,
  ix: FhirInteraction,
  c: AccessConstraint,
): Promise<void> {
  if (!isRestricted(c) || !['update', 'patch', 'delete', 'create'].includes(ix.kind)) return;
  if (ix.conditional)
    throw forbidden('conditional writes under confined access are not available with this backend');
  const body = ctx.state.body;
  if ((ix.kind === 'create' || ix.kind === 'update') && body !== undefined && body.length > 0) {
    let resource: unknown;
    try {
      resource = JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest('the body is not valid JSON');
    }
    if (
      typeof resource !== 'object' ||
      resource === null ||
      !deps.allows(c, resource as Record<string, unknown>)
    ) {
      throw forbidden('the resource is outside what this token may write');
    }
  }
  if (ix.id !== undefined && ix.resourceType !== undefined) {
    const current = await deps.upstream.request({
      method: 'GET',
      path: `${ix.resourceType}/${ix.id}`,
      headers: { accept: 'application/fhir+json' },
      requestId: ctx.state.requestId,
    });
    if (current.status === 200) {
      const r = JSON.parse(current.body.toString('utf8')) as Record<string, unknown>;
      if (!deps.allows(c, r)) throw notFound('resource not found');
    }
  }
}

/**
 * Proxies the authorized request to the backend. The built-in store gets the constraint and
 * streams its answer through (after the audit has committed); an external upstream gets a narrowed
 * query and its answer is filtered. Batches run entry by entry, each under its own decision.
 */
export function proxyToBackend(deps: ProxyDeps): GatewayMiddleware {
  return async function proxyStep(ctx) {
    const ix = ctx.state.interaction;
    const d = ctx.state.decision;
    if (ix === undefined || d?.allow !== true) throw new Error('proxy runs after authorize');
    const bundle = bundleDecisionOf(ctx);
    if (bundle?.type === 'batch') {
      await executeBatch(ctx, deps, bundle);
      return;
    }
    const up = deps.upstream;
    if (up.isBuiltInStore) {
      const path =
        ctx.querystring === '' ? ctx.state.fhirPath : `${ctx.state.fhirPath}?${ctx.querystring}`;
      const res = await up.request({
        method: ctx.method,
        path,
        headers: ctx.req.headers,
        body: ctx.state.body,
        constraint: d.constraint,
        requestId: ctx.state.requestId,
      });
      noteDisclosure(
        ctx.state.audit,
        storeDisclosure(res.headers, () => parseJsonOrUndefined(res.body), deps.patientsOf),
      );
      respondBuffered(ctx, res);
      return;
    }
    await guardExternalWrite(ctx, deps, ix, d.constraint);
    const toUp = deps.rewriter?.toUpstream ?? ((s: string) => s);
    const restricted = isRestricted(d.constraint);
    const path = restricted
      ? narrowQuery(ix, ctx.state.fhirPath, new URLSearchParams(ctx.querystring), d.constraint)
      : ctx.querystring === ''
        ? ctx.state.fhirPath
        : `${ctx.state.fhirPath}?${ctx.querystring}`;
    const body =
      ctx.state.body === undefined
        ? undefined
        : Buffer.from(toUp(ctx.state.body.toString('utf8')), 'utf8');
    const res = await up.forward(ctx.req, ctx.res, {
      method: ctx.method,
      path: toUp(path),
      headers: ctx.req.headers,
      body,
      requestId: ctx.state.requestId,
    });
    const buffered = await decodeUpstreamBody({
      status: res.statusCode ?? 502,
      headers: res.headers,
      body: await readAll(res),
    });
    respondFiltered(ctx, deps, buffered, d.constraint);
  };
}
