import type { IncomingHttpHeaders } from 'node:http';
import type { Bundle, BundleEntry, OperationOutcome as FhirOutcome } from '@medplum/fhirtypes';
import { isFhirError, outcome, issue, type OperationOutcome } from '../../store/fhir/outcome.js';
import type { BundleDecision } from '../authz/decide-bundle.js';
import { disclosureOf, noteDisclosure, storeDisclosure } from '../proxy/disclosure.js';
import { filterResponse } from '../proxy/filter.js';
import { FHIR_JSON } from '../errors.js';
import type { GatewayContext } from '../state.js';
import type { ProxyDeps } from './proxy.js';

const REASON: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
};

function statusLine(status: number): string {
  return `${status} ${REASON[status] ?? ''}`.trim();
}

function errorEntry(status: number, oo: OperationOutcome): BundleEntry {
  return { response: { status: statusLine(status), outcome: oo } };
}

interface EntryBody {
  body: Buffer | undefined;
  contentType: string;
}

/** The body to send for an entry: its resource, or a Binary's decoded content (JSON Patch). */
function entryBody(entry: BundleEntry | undefined): EntryBody {
  const r = entry?.resource;
  if (r === undefined) return { body: undefined, contentType: 'application/fhir+json' };
  if (r.resourceType === 'Binary' && r.data !== undefined && /patch/.test(r.contentType)) {
    return { body: Buffer.from(r.data, 'base64'), contentType: r.contentType };
  }
  return { body: Buffer.from(JSON.stringify(r), 'utf8'), contentType: 'application/fhir+json' };
}

function pick(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Runs a batch entry by entry, each under its own decision and constraint: a denied entry answers
 * 403 (or 404 for what the caller may not see) inside the batch-response, the others proceed.
 */
export async function executeBatch(
  ctx: GatewayContext,
  deps: ProxyDeps,
  bundle: BundleDecision,
): Promise<void> {
  const source = JSON.parse((ctx.state.body ?? Buffer.from('{}')).toString('utf8')) as Bundle;
  const rewrite = deps.rewriter;
  const out: BundleEntry[] = [];
  for (const e of bundle.entries) {
    if (isFhirError(e.interaction)) {
      out.push(errorEntry(e.interaction.status, e.interaction.outcome));
      continue;
    }
    const d = e.decision;
    if (d?.allow !== true) {
      const reason = d === undefined ? 'not allowed' : `${d.rule}: ${d.reason}`;
      out.push(errorEntry(403, outcome([issue('error', 'forbidden', reason)])));
      continue;
    }
    const { body, contentType } = entryBody(source.entry?.[e.index]);
    const req = source.entry?.[e.index]?.request;
    const headers: IncomingHttpHeaders = {
      accept: 'application/fhir+json',
      'content-type': contentType,
    };
    if (req?.ifMatch !== undefined) headers['if-match'] = req.ifMatch;
    if (req?.ifNoneMatch !== undefined) headers['if-none-match'] = req.ifNoneMatch;
    if (req?.ifNoneExist !== undefined) headers['if-none-exist'] = req.ifNoneExist;
    if (req?.ifModifiedSince !== undefined) headers['if-modified-since'] = req.ifModifiedSince;
    const toUp = rewrite?.toUpstream ?? ((s: string) => s);
    try {
      const res = await deps.upstream.request({
        method: e.request.method.toUpperCase(),
        path: toUp(e.request.url.replace(/^\/+/, '')),
        headers,
        body: body === undefined ? undefined : Buffer.from(toUp(body.toString('utf8')), 'utf8'),
        constraint: d.constraint,
        requestId: ctx.state.requestId,
      });
      const text =
        rewrite === undefined
          ? res.body.toString('utf8')
          : rewrite.toPublic(res.body.toString('utf8'));
      let resource: unknown;
      try {
        resource = text === '' ? undefined : JSON.parse(text);
      } catch {
        resource = undefined;
      }
      if (deps.upstream.isBuiltInStore) {
        noteDisclosure(
          ctx.state.audit,
          storeDisclosure(res.headers, () => resource, deps.patientsOf),
        );
      } else if (res.status < 300 && resource !== undefined) {
        const f = filterResponse(resource, d.constraint, deps.allows);
        if (f.hidden) {
          out.push(errorEntry(404, outcome([issue('error', 'not-found', 'resource not found')])));
          continue;
        }
        resource = f.body;
        noteDisclosure(ctx.state.audit, disclosureOf(resource, deps.patientsOf));
      }
      const location = pick(res.headers, 'location');
      const etag = pick(res.headers, 'etag');
      const lastModified = pick(res.headers, 'last-modified');
      const entry: BundleEntry = {
        response: {
          status: statusLine(res.status),
          ...(location === undefined
            ? {}
            : { location: rewrite === undefined ? location : rewrite.toPublic(location) }),
          ...(etag === undefined ? {} : { etag }),
          ...(lastModified === undefined
            ? {}
            : { lastModified: new Date(lastModified).toISOString() }),
        },
      };
      const isOutcome =
        (resource as { resourceType?: unknown } | undefined)?.resourceType === 'OperationOutcome';
      if (resource !== undefined && isOutcome && res.status >= 400 && entry.response !== undefined)
        entry.response.outcome = resource as FhirOutcome;
      else if (resource !== undefined)
        entry.resource = resource as NonNullable<BundleEntry['resource']>;
      out.push(entry);
    } catch (err) {
      if (!isFhirError(err)) throw err;
      out.push(errorEntry(err.status, err.outcome));
    }
  }
  ctx.status = 200;
  ctx.type = FHIR_JSON;
  ctx.body = JSON.stringify({ resourceType: 'Bundle', type: 'batch-response', entry: out });
}
