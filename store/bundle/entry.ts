import { STATUS_CODES } from 'node:http';
import { isJsonObject, type JsonObject, type JsonValue } from '../fhir/json.js';
import { badRequest } from '../fhir/outcome.js';
import { instant } from '../repo/meta.js';
import type { StoreContext, StoreRequest, StoreResponse } from '../http/types.js';

export type EntryMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const METHODS = new Set<string>(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** A Bundle entry's request, checked. */
export interface ParsedEntry {
  index: number;
  method: EntryMethod;
  url: string;
  fullUrl?: string;
  resource?: JsonValue;
  request: JsonObject;
}

const str = (v: JsonValue | undefined): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

export function parseEntry(raw: JsonValue, index: number): ParsedEntry {
  const at = `Bundle.entry[${index}]`;
  if (!isJsonObject(raw)) throw badRequest(`${at} is not an object`, [at]);
  const request = raw.request;
  if (!isJsonObject(request)) throw badRequest(`${at} has no request`, [`${at}.request`]);
  const method = str(request.method);
  const url = str(request.url);
  if (method === undefined || !METHODS.has(method))
    throw badRequest(`${at}.request.method is missing or unknown`, [`${at}.request.method`]);
  if (url === undefined) throw badRequest(`${at}.request.url is missing`, [`${at}.request.url`]);
  const entry: ParsedEntry = { index, method: method as EntryMethod, url, request };
  const fullUrl = str(raw.fullUrl);
  if (fullUrl !== undefined) entry.fullUrl = fullUrl;
  if (raw.resource !== undefined) entry.resource = raw.resource;
  return entry;
}

/**
 * `Type` or `Type/id` in characters URL parsing leaves as they are (no query, escape or dot
 * segment): its path is its segments. Nearly every entry of a transaction Bundle has such a URL.
 */
const PLAIN_URL = /^[A-Za-z][A-Za-z0-9]*(?:\/[A-Za-z0-9-][A-Za-z0-9.-]*)?$/;

/** The path segments and query of an entry's URL (relative, no leading slash). */
export function entryUrlParts(
  relative: string,
  index: number,
): { path: string[]; query: URLSearchParams } {
  if (PLAIN_URL.test(relative)) return { path: relative.split('/'), query: new URLSearchParams() };
  const parsed = new URL(relative, 'http://entry/');
  try {
    const path = parsed.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    return { path, query: parsed.searchParams };
  } catch {
    throw badRequest(`Bundle.entry[${index}].request.url is not a valid URL`);
  }
}

/** The StoreRequest of an entry (`url` relative to the base, or absolute under it). */
export function entryRequest(
  parent: StoreRequest,
  ctx: StoreContext,
  e: ParsedEntry,
  url: string,
): StoreRequest {
  let relative = url;
  if (relative.startsWith(`${ctx.baseUrl}/`)) relative = relative.slice(ctx.baseUrl.length + 1);
  if (/^[a-z]+:/i.test(relative))
    throw badRequest(`Bundle.entry[${e.index}].request.url must be relative to this server`);
  const { path, query } = entryUrlParts(relative.replace(/^\/+/, ''), e.index);
  const r = e.request;
  const headers: Record<string, string | undefined> = {
    accept: 'application/fhir+json',
    'content-type': 'application/fhir+json',
    prefer: parent.headers.prefer,
    'if-match': str(r.ifMatch),
    'if-none-match': str(r.ifNoneMatch),
    'if-modified-since': str(r.ifModifiedSince),
    'if-none-exist': str(r.ifNoneExist),
  };
  const req: StoreRequest = {
    method: e.method,
    path,
    query,
    headers,
    requestId: parent.requestId,
    trusted: parent.trusted,
    entry: e.index,
  };
  if (parent.constraint !== undefined) req.constraint = parent.constraint;
  if (
    e.resource !== undefined &&
    (e.method === 'POST' || e.method === 'PUT' || e.method === 'PATCH')
  ) {
    req.parsed = e.resource;
  }
  return req;
}

function lastModified(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const ms = Date.parse(header);
  return Number.isNaN(ms) ? undefined : instant(ms);
}

/** `entry.resource` text and `entry.response` text of a handled entry. */
export function entryResponse(res: StoreResponse): { resource?: string; response: string } {
  const parts = [
    `"status":${JSON.stringify(`${res.status} ${STATUS_CODES[res.status] ?? ''}`.trim())}`,
  ];
  const h = res.headers;
  if (h.location !== undefined) parts.push(`"location":${JSON.stringify(h.location)}`);
  else if (h['content-location'] !== undefined && res.status < 300) {
    parts.push(`"location":${JSON.stringify(h['content-location'])}`);
  }
  if (h.etag !== undefined) parts.push(`"etag":${JSON.stringify(h.etag)}`);
  const lm = lastModified(h['last-modified']);
  if (lm !== undefined) parts.push(`"lastModified":${JSON.stringify(lm)}`);
  const isFhir = (h['content-type'] ?? '').startsWith('application/fhir+json');
  const text = typeof res.body === 'string' && isFhir ? res.body : undefined;
  const isOutcome = text !== undefined && text.startsWith('{"resourceType":"OperationOutcome"');
  if (isOutcome) {
    parts.push(`"outcome":${text}`);
    return { response: `{${parts.join(',')}}` };
  }
  const out: { resource?: string; response: string } = { response: `{${parts.join(',')}}` };
  if (text !== undefined) out.resource = text;
  return out;
}
