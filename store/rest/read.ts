import { gone, notAcceptable, notFound } from '../fhir/outcome.js';
import { responseFormat } from '../http/negotiate.js';
import { etag, httpDate, versionResponse, type VersionInfo } from '../http/respond.js';
import type { Disclosure, StoreContext, StoreRequest, StoreResponse } from '../http/types.js';
import type { ResourceRow } from '../repo/rows.js';
import { assertId, assertType, visible, visibleParsed } from './common.js';
import { shapeRead } from './read-shape.js';

function notModified(req: StoreRequest, row: { version: number; last_updated: number }): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    return inm
      .split(',')
      .some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === `"${row.version}"`);
  }
  const ims = req.headers['if-modified-since'];
  if (ims !== undefined) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && Math.floor(row.last_updated / 1000) * 1000 <= since;
  }
  return false;
}

/** A Binary asked for in a non-FHIR type: its bytes, in its own content type. */
function rawBinary(json: string, version: number, lastUpdated: number): StoreResponse {
  const b = JSON.parse(json) as { contentType?: string; data?: string };
  return {
    status: 200,
    headers: {
      'content-type': b.contentType ?? 'application/octet-stream',
      etag: etag(version),
      'last-modified': httpDate(lastUpdated),
    },
    body: Buffer.from(b.data ?? '', 'base64'),
  };
}

/** GET [type]/[id] (with If-None-Match / If-Modified-Since → 304). */
export async function read(
  req: StoreRequest,
  ctx: StoreContext,
  type: string,
  id: string,
): Promise<StoreResponse> {
  assertType(type);
  assertId(id);
  const format = responseFormat(req);
  const row: ResourceRow | undefined = await ctx.repo.read(req.tx ?? ctx.engine, type, id);
  const seen = row === undefined ? undefined : visibleParsed(req, type, row.json);
  if (row === undefined || seen?.visible !== true) throw notFound(`${type}/${id} is not known`);
  if (row.deleted !== 0) throw gone(`${type}/${id} was deleted`);
  if (notModified(req, row)) {
    return {
      status: 304,
      headers: { etag: etag(row.version), 'last-modified': httpDate(row.last_updated) },
      disclosed: [],
    };
  }
  if (format === 'raw') {
    if (type !== 'Binary') notAcceptableFor(req);
    const res = rawBinary(row.json, row.version, row.last_updated);
    res.disclosed = [disclosure(type, id, row.version, row.json, seen.resource)];
    return res;
  }
  const v: VersionInfo = {
    type,
    id,
    version: row.version,
    lastUpdated: row.last_updated,
    json: row.json,
  };
  if (seen.resource !== undefined) v.parsed = seen.resource;
  return shapeRead(req, type, versionResponse(ctx, req, 200, v));
}

function disclosure(
  type: string,
  id: string,
  version: number,
  json: string,
  resource: Record<string, unknown> | undefined,
): Disclosure {
  return resource === undefined
    ? { type, id, version, json }
    : { type, id, version, json, resource };
}

function notAcceptableFor(req: StoreRequest): never {
  throw notAcceptable(
    `cannot answer in ${req.headers.accept ?? ''}; ask for application/fhir+json`,
  );
}

/** GET [type]/[id]/_history/[vid]. */
export async function vread(
  req: StoreRequest,
  ctx: StoreContext,
  type: string,
  id: string,
  vid: string,
): Promise<StoreResponse> {
  assertType(type);
  assertId(id);
  const format = responseFormat(req);
  if (!/^\d{1,15}$/.test(vid)) throw notFound(`${type}/${id} has no version ${vid}`);
  const row = await ctx.repo.vread(req.tx ?? ctx.engine, type, id, Number(vid));
  if (row === undefined) throw notFound(`${type}/${id} has no version ${vid}`);
  if (row.json === null) {
    const current = await ctx.repo.read(req.tx ?? ctx.engine, type, id);
    if (!visible(req, type, current?.json)) throw notFound(`${type}/${id} has no version ${vid}`);
    throw gone(`version ${vid} of ${type}/${id} is a delete`);
  }
  if (!visible(req, type, row.json)) throw notFound(`${type}/${id} has no version ${vid}`);
  if (format === 'raw' && type === 'Binary') {
    const res = rawBinary(row.json, row.version, row.last_updated);
    res.disclosed = [{ type, id, version: row.version, json: row.json }];
    return res;
  }
  if (format === 'raw') notAcceptableFor(req);
  const res = versionResponse(ctx, req, 200, {
    type,
    id,
    version: row.version,
    lastUpdated: row.last_updated,
    json: row.json,
  });
  return shapeRead(req, type, res);
}
