import { badRequest, notFound } from '../fhir/outcome.js';
import type { AccessConstraint } from '../protocol.js';
import { isResourceType } from './definitions/resource-types.js';
import type { SearchInput } from './execute.js';

/** A search as it arrives over HTTP (the router's glue fills this in). */
export interface HttpSearchRequest {
  method: 'GET' | 'POST';
  /**
   * Path below the FHIR base: `Observation`, `Observation/_search`, `` or `_search` (system),
   * `Patient/1/Observation`, `Patient/1/*`, `Patient/1/$everything`.
   */
  path: string;
  /** The raw query string, without `?`. */
  query: string;
  /** POST `_search`: the `application/x-www-form-urlencoded` body (its parameters follow the query's). */
  body?: string | undefined;
  /** The `Prefer` header: `handling=strict` makes unknown / unsupported parameters a 400. */
  prefer?: string | undefined;
  constraint?: AccessConstraint | undefined;
  /** The FHIR base URL, without a trailing slash. */
  baseUrl: string;
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** Turns an HTTP search into a SearchInput; 404 for an unknown type or path, 400 for a bad body. */
export function searchRequestFromHttp(req: HttpSearchRequest): SearchInput {
  const segs = req.path
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s) => s.length > 0);
  if (segs[segs.length - 1] === '_search') {
    if (req.method !== 'POST') throw badRequest('_search takes POST');
    segs.pop();
  }
  const params: [string, string][] = [...new URLSearchParams(req.query)];
  if (req.body !== undefined && req.body !== '') params.push(...new URLSearchParams(req.body));
  const strict = /(^|[;,\s])handling\s*=\s*strict/.test(req.prefer ?? '');
  const base = { params, constraint: req.constraint, baseUrl: req.baseUrl, strict };
  const path = segs.join('/');
  const [a, b, c] = segs;
  if (a === undefined) return { ...base, types: [], path };
  if (!isResourceType(a)) throw notFound(`unknown resource type '${a}'`);
  if (b === undefined) return { ...base, types: [a], path };
  if (a !== 'Patient' || c === undefined || segs.length > 3 || !ID.test(b))
    throw notFound(`no search at ${req.path}`);
  if (c === '$everything') return { ...base, types: [], everything: { id: b }, path };
  if (c === '*') return { ...base, types: [], compartment: { type: 'Patient', id: b }, path };
  if (!isResourceType(c)) throw notFound(`unknown resource type '${c}'`);
  return { ...base, types: [c], compartment: { type: 'Patient', id: b }, path };
}
