import { badRequest, notFound } from '../../store/fhir/outcome.js';
import type { AuditRefParam } from '../audit/index-values.js';
import { AuditQueryError, type AuditQuery } from '../audit/search.js';
import type { AuditTrail } from '../audit/trail.js';
import { FHIR_JSON } from '../errors.js';
import type { GatewayMiddleware } from '../state.js';

const REF_PARAMS: ReadonlySet<string> = new Set([
  'agent',
  'entity',
  'patient',
  'action',
  'outcome',
  'type',
  'subtype',
]);
const IGNORED: ReadonlySet<string> = new Set(['_format', '_pretty', '_total', '_sort']);

export interface AuditEndpointDeps {
  trail: AuditTrail;
  fhirBase: string;
  defaultCount: number;
  maxCount: number;
}

function normaliseRef(param: string, value: string, fhirBase: string): string {
  let v = value.startsWith(`${fhirBase}/`) ? value.slice(fhirBase.length + 1) : value;
  if (param === 'patient' && !v.includes('/')) v = `Patient/${v}`;
  return v;
}

/** Parses `/fhir/AuditEvent` search parameters (400 for unknown ones or bad values). */
export function parseAuditQuery(params: URLSearchParams, deps: AuditEndpointDeps): AuditQuery {
  const q: AuditQuery = { count: deps.defaultCount, offset: 0, date: [], refs: {} };
  const refs: Partial<Record<AuditRefParam, string[][]>> = {};
  for (const [rawName, value] of params) {
    const [name = '', modifier] = rawName.split(':');
    if (IGNORED.has(name)) continue;
    if (name === '_count' || name === '_offset') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw badRequest(`${name} must be a non-negative integer`);
      if (name === '_count') q.count = Math.min(n, deps.maxCount);
      else q.offset = n;
      continue;
    }
    if (modifier !== undefined)
      throw badRequest(`modifier :${modifier} is not supported on AuditEvent`);
    if (name === 'date') {
      q.date?.push(value);
      continue;
    }
    if (!REF_PARAMS.has(name)) throw badRequest(`unknown AuditEvent search parameter: ${name}`);
    const list = (refs[name as AuditRefParam] ??= []);
    list.push(value.split(',').map((v) => normaliseRef(name, v, deps.fhirBase)));
  }
  q.refs = refs;
  return q;
}

/**
 * `/fhir/AuditEvent` and `/fhir/AuditEvent/{id}`: the audit trail as FHIR R4, served by the gateway
 * from the audit database (never proxied), after authorize has required `auditRead`.
 */
export function auditEventEndpoint(deps: AuditEndpointDeps): GatewayMiddleware {
  return async function auditEventEndpointStep(ctx, next) {
    const ix = ctx.state.interaction;
    if (ix?.resourceType !== 'AuditEvent') {
      await next();
      return;
    }
    ctx.type = FHIR_JSON;
    if (ix.kind === 'read') {
      const event = ix.id === undefined ? undefined : await deps.trail.read(ix.id);
      if (event === undefined) throw notFound(`AuditEvent/${ix.id ?? ''} not found`);
      ctx.state.audit.entities.push(`AuditEvent/${ix.id ?? ''}`);
      ctx.body = JSON.stringify(event);
      return;
    }
    if (ix.kind !== 'search-type') throw badRequest('the audit trail supports read and search');
    let page;
    const q = parseAuditQuery(ix.query, deps);
    try {
      page = await deps.trail.search(q);
    } catch (err) {
      if (err instanceof AuditQueryError) throw badRequest(err.message);
      throw err;
    }
    const self = new URLSearchParams(ix.query);
    self.set('_count', String(q.count));
    self.set('_offset', String(q.offset));
    const link = [{ relation: 'self', url: `${deps.fhirBase}/AuditEvent?${self.toString()}` }];
    if (q.offset + page.events.length < page.total && page.events.length > 0) {
      const nextQ = new URLSearchParams(self);
      nextQ.set('_offset', String(q.offset + page.events.length));
      link.push({ relation: 'next', url: `${deps.fhirBase}/AuditEvent?${nextQ.toString()}` });
    }
    ctx.state.audit.entities.push(...page.events.map((e) => `AuditEvent/${e.id ?? ''}`));
    ctx.body = JSON.stringify({
      resourceType: 'Bundle',
      type: 'searchset',
      total: page.total,
      link,
      entry: page.events.map((e) => ({
        fullUrl: `${deps.fhirBase}/AuditEvent/${e.id ?? ''}`,
        resource: e,
        search: { mode: 'match' },
      })),
    });
  };
}
