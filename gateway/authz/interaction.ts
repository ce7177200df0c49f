import { badRequest, notFound } from '../../store/fhir/outcome.js';
import { isResourceType } from './resource-types.js';

/** The FHIR interaction a request performs, as far as authorization and audit need it. */
export type InteractionKind =
  | 'read'
  | 'vread'
  | 'update'
  | 'patch'
  | 'delete'
  | 'history-instance'
  | 'history-type'
  | 'history-system'
  | 'create'
  | 'search-type'
  | 'search-system'
  | 'capabilities'
  | 'bundle'
  | 'operation';

export interface FhirInteraction {
  kind: InteractionKind;
  method: string;
  resourceType?: string;
  id?: string;
  versionId?: string;
  /** Operation name without `$` (`everything`, `export`). */
  operation?: string;
  /** Conditional create (If-None-Exist), update, patch or delete (search criteria). */
  conditional: boolean;
  /** A compartment search (`Patient/123/Observation`): the compartment's patient id. */
  compartmentPatient?: string;
  query: URLSearchParams;
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

function typeOf(segment: string): string {
  if (!isResourceType(segment)) throw notFound(`unknown resource type: ${segment}`);
  return segment;
}

function idOf(segment: string): string {
  if (!ID.test(segment)) throw badRequest(`invalid id: ${segment}`);
  return segment;
}

/** The non-empty segments of a path, percent-decoded (a segment without `%` is its own decoding). */
function segmentsOf(path: string): string[] {
  const out: string[] = [];
  for (const s of path.split('/')) {
    if (s !== '') out.push(s.includes('%') ? decodeURIComponent(s) : s);
  }
  return out;
}

// The interactions below are object literals, not spreads of a shared base: V8 builds a literal
// far faster than it copies one object into another (a spread cost ~2 µs per request).
function operation(
  segment: string,
  method: string,
  query: URLSearchParams,
  extra: Partial<FhirInteraction>,
): FhirInteraction {
  return {
    kind: 'operation',
    method,
    operation: segment.slice(1),
    conditional: false,
    query,
    ...extra,
  };
}

/**
 * Parses a request relative to the FHIR base (`Observation/1/_history/2`, `Patient?name=x`).
 * Throws a FhirError (400/404/405) for what is not a FHIR interaction.
 */
export function parseInteraction(
  method: string,
  relativePath: string,
  query: URLSearchParams,
  ifNoneExist?: string,
): FhirInteraction {
  const upper = method.toUpperCase();
  // HEAD is decided (and audited) as the GET it mirrors.
  const m = upper === 'HEAD' ? 'GET' : upper;
  const segs = segmentsOf(relativePath);
  const [a, b, c, d, e] = segs;
  if (segs.length > 5 || (e !== undefined && e !== '_search'))
    throw notFound(`no such FHIR endpoint: ${relativePath}`);
  if (a === undefined) {
    if (m === 'POST') return { method: m, conditional: false, query, kind: 'bundle' };
    if (m === 'GET') return { method: m, conditional: false, query, kind: 'search-system' };
    throw notAllowed(m, relativePath);
  }
  if (b === undefined) {
    if (a === 'metadata' && m === 'GET')
      return { method: m, conditional: false, query, kind: 'capabilities' };
    if (a === '_history' && m === 'GET')
      return { method: m, conditional: false, query, kind: 'history-system' };
    if (a === '_search' && m === 'POST')
      return { method: m, conditional: false, query, kind: 'search-system' };
    if (a.startsWith('$')) return operation(a, m, query, {});
    const resourceType = typeOf(a);
    switch (m) {
      case 'GET':
        return { method: m, conditional: false, query, kind: 'search-type', resourceType };
      case 'POST':
        return {
          method: m,
          conditional: ifNoneExist !== undefined && ifNoneExist !== '',
          query,
          kind: 'create',
          resourceType,
        };
      case 'PUT':
        return { method: m, conditional: true, query, kind: 'update', resourceType };
      case 'PATCH':
        return { method: m, conditional: true, query, kind: 'patch', resourceType };
      case 'DELETE':
        return { method: m, conditional: true, query, kind: 'delete', resourceType };
      default:
        throw notAllowed(m, relativePath);
    }
  }
  const resourceType = typeOf(a);
  if (c === undefined) {
    if (b === '_search' && m === 'POST')
      return { method: m, conditional: false, query, kind: 'search-type', resourceType };
    if (b === '_history' && m === 'GET')
      return { method: m, conditional: false, query, kind: 'history-type', resourceType };
    if (b.startsWith('$')) return operation(b, m, query, { resourceType });
    const id = idOf(b);
    switch (m) {
      case 'GET':
        return { method: m, conditional: false, query, kind: 'read', resourceType, id };
      case 'PUT':
        return { method: m, conditional: false, query, kind: 'update', resourceType, id };
      case 'PATCH':
        return { method: m, conditional: false, query, kind: 'patch', resourceType, id };
      case 'DELETE':
        return { method: m, conditional: false, query, kind: 'delete', resourceType, id };
      default:
        throw notAllowed(m, relativePath);
    }
  }
  const id = idOf(b);
  if (c === '_history' && m === 'GET') {
    if (d === undefined)
      return { method: m, conditional: false, query, kind: 'history-instance', resourceType, id };
    if (e === undefined)
      return {
        method: m,
        conditional: false,
        query,
        kind: 'vread',
        resourceType,
        id,
        versionId: idOf(d),
      };
  }
  if (c.startsWith('$') && d === undefined) return operation(c, m, query, { resourceType, id });
  if (resourceType === 'Patient' && isResourceType(c) && (d === undefined || d === '_search')) {
    if (m === 'GET' || (m === 'POST' && d === '_search')) {
      return {
        method: m,
        conditional: false,
        query,
        kind: 'search-type',
        resourceType: c,
        compartmentPatient: id,
      };
    }
  }
  throw notFound(`no such FHIR endpoint: ${relativePath}`);
}

function notAllowed(method: string, path: string): Error {
  return badRequest(`${method} is not supported on ${path === '' ? 'the base' : path}`);
}

/** The BALP subtype code (restful-interaction or operation name) of an interaction. */
export function auditSubtype(ix: FhirInteraction, bundleType?: string): string {
  switch (ix.kind) {
    case 'bundle':
      return bundleType === 'transaction' ? 'transaction' : 'batch';
    case 'operation':
      return ix.operation ?? 'operation';
    case 'history-instance':
    case 'history-type':
    case 'history-system':
    case 'search-type':
    case 'search-system':
      return ix.kind;
    default:
      return ix.kind;
  }
}

/** The BALP action code: C create, R read, U update, D delete, E execute. */
export function auditAction(ix: FhirInteraction): 'C' | 'R' | 'U' | 'D' | 'E' {
  switch (ix.kind) {
    case 'create':
      return 'C';
    case 'update':
    case 'patch':
      return 'U';
    case 'delete':
      return 'D';
    case 'bundle':
    case 'operation':
      return 'E';
    default:
      return 'R';
  }
}
