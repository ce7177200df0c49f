import { stringifyJson } from '../fhir/json.js';
import { issue, outcome, type OutcomeIssue } from '../fhir/outcome.js';
import type { StoreContext, StoreRequest, StoreResponse } from './types.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export function etag(version: number): string {
  return `W/"${version}"`;
}

/** `W/"3"`, `"3"` or `3` → 3; undefined when absent; a 400 when malformed. */
export function parseETag(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(value.trim());
  return m?.[1] === undefined ? Number.NaN : Number(m[1]);
}

export interface VersionInfo {
  type: string;
  id: string;
  version: number;
  lastUpdated: number;
  json: string;
  /**
   * `JSON.parse(json)`, when the caller already did it (the disclosure then skips a parse). Only
   * that: a write's plain object (toPlain) can differ from it (a `__proto__` key).
   */
  parsed?: Record<string, unknown>;
}

export function versionUrl(
  ctx: StoreContext,
  v: { type: string; id: string; version: number },
): string {
  return `${ctx.baseUrl}/${v.type}/${v.id}/_history/${v.version}`;
}

export type PreferReturn = 'minimal' | 'representation' | 'OperationOutcome';

export function preferReturn(req: StoreRequest): PreferReturn {
  const m = /return=(minimal|representation|OperationOutcome)/i.exec(req.headers.prefer ?? '');
  const v = m?.[1]?.toLowerCase();
  return v === 'minimal'
    ? 'minimal'
    : v === 'operationoutcome'
      ? 'OperationOutcome'
      : 'representation';
}

/** A response carrying one stored version (read, vread, create, update, patch). */
export function versionResponse(
  ctx: StoreContext,
  req: StoreRequest,
  status: number,
  v: VersionInfo,
  opts: { write?: boolean; message?: string } = {},
): StoreResponse {
  const url = versionUrl(ctx, v);
  const headers: Record<string, string> = {
    etag: etag(v.version),
    'last-modified': httpDate(v.lastUpdated),
    'content-location': url,
  };
  if (status === 201) headers.location = url;
  const res: StoreResponse = {
    status,
    headers,
    disclosed: [
      v.parsed === undefined
        ? { type: v.type, id: v.id, version: v.version, json: v.json }
        : { type: v.type, id: v.id, version: v.version, json: v.json, resource: v.parsed },
    ],
  };
  const prefer = opts.write === true ? preferReturn(req) : 'representation';
  if (prefer === 'representation') {
    headers['content-type'] = FHIR_JSON;
    res.body = v.json;
  } else if (prefer === 'OperationOutcome') {
    headers['content-type'] = FHIR_JSON;
    res.body = outcomeText([issue('information', 'informational', opts.message ?? 'ok')]);
  }
  return res;
}

export function outcomeText(issues: OutcomeIssue[]): string {
  return stringifyJson(outcome(issues));
}

export function outcomeResponse(
  status: number,
  issues: OutcomeIssue[],
  headers: Record<string, string> = {},
): StoreResponse {
  return { status, headers: { ...headers, 'content-type': FHIR_JSON }, body: outcomeText(issues) };
}

export function jsonResponse(status: number, body: unknown): StoreResponse {
  return { status, headers: { 'content-type': FHIR_JSON }, body: stringifyJson(body) };
}
