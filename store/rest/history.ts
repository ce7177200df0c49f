import type { SqlValue } from '../engines/engine.js';
import { badRequest, notFound } from '../fhir/outcome.js';
import { requireFhirFormat } from '../http/negotiate.js';
import { etag, FHIR_JSON } from '../http/respond.js';
import type { Disclosure, StoreContext, StoreRequest, StoreResponse } from '../http/types.js';
import { instant } from '../repo/meta.js';
import { HISTORY_COLUMNS, type HistoryRow } from '../repo/rows.js';
import { bundleText, entryText } from './bundle-text.js';
import { assertId, assertType, visible } from './common.js';

const STATUS: Record<HistoryRow['method'], string> = {
  POST: '201 Created',
  PUT: '200 OK',
  PATCH: '200 OK',
  DELETE: '204 No Content',
};

function instantParam(req: StoreRequest, name: string): number | undefined {
  const v = req.query.get(name);
  if (v === null) return undefined;
  const ms = /^\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?$/.test(v)
    ? Date.parse(v)
    : Number.NaN;
  if (Number.isNaN(ms))
    throw badRequest(`${name} must be a FHIR instant, e.g. 2024-01-31T12:00:00Z`);
  return ms;
}

/** GET [type]/[id]/_history, [type]/_history, _history: newest first, `_since`, `_at`, `_count`, paging. */
export async function history(
  req: StoreRequest,
  ctx: StoreContext,
  type?: string,
  id?: string,
): Promise<StoreResponse> {
  requireFhirFormat(req);
  if (type !== undefined) assertType(type);
  if (id !== undefined) assertId(id);
  const db = req.tx ?? ctx.engine;
  const since = instantParam(req, '_since');
  const at = instantParam(req, '_at');
  const countText = req.query.get('_count');
  const count = countText === null ? ctx.config.searchDefaultCount : Number(countText);
  if (!Number.isInteger(count) || count < 0)
    throw badRequest('_count must be a non-negative integer');
  const limit = Math.min(count, ctx.config.searchMaxCount);
  const cursorText = req.query.get('_cursor');
  if (cursorText !== null && !/^\d{1,15}$/.test(cursorText)) throw badRequest('bad _cursor');

  const where: string[] = ['hearth_budget() = 1'];
  const params: SqlValue[] = [];
  if (type !== undefined && id !== undefined) {
    const row = await ctx.repo.read(db, type, id);
    if (row === undefined || !visible(req, type, row.json))
      throw notFound(`${type}/${id} is not known`);
    where.push('rid = ?');
    params.push(row.rid);
  } else if (type !== undefined) {
    where.push('type = ?');
    params.push(type);
  }
  if (since !== undefined) {
    where.push('last_updated >= ?');
    params.push(since);
  }
  if (at !== undefined) {
    where.push(
      'last_updated <= ? AND NOT EXISTS (SELECT 1 FROM history h2 WHERE h2.rid = history.rid AND h2.version > history.version AND h2.last_updated <= ?)',
    );
    params.push(at, at);
  }
  if (cursorText !== null) {
    where.push('hid < ?');
    params.push(Number(cursorText));
  }
  const sql = `SELECT ${HISTORY_COLUMNS} FROM history WHERE ${where.join(' AND ')} ORDER BY hid DESC LIMIT ?`;
  const rows = await db.all<HistoryRow>(sql, [...params, limit + 1], { deadline: ctx.deadline() });
  const more = rows.length > limit;
  const page = rows.slice(0, limit);

  const instanceLevel = id !== undefined;
  const entries: string[] = [];
  const disclosed: Disclosure[] = [];
  for (const r of page) {
    if (!instanceLevel && req.constraint !== undefined && !visible(req, r.type, r.json)) continue;
    const response = JSON.stringify({
      status: STATUS[r.method],
      etag: etag(r.version),
      lastModified: instant(r.last_updated),
    });
    entries.push(
      entryText({
        fullUrl: `${ctx.baseUrl}/${r.type}/${r.id}`,
        ...(r.json === null ? {} : { resource: r.json }),
        request: { method: r.method, url: r.method === 'POST' ? r.type : `${r.type}/${r.id}` },
        response,
      }),
    );
    disclosed.push({
      type: r.type,
      id: r.id,
      version: r.version,
      ...(r.json === null ? {} : { json: r.json }),
    });
  }
  const base = `${ctx.baseUrl}/${[type, id, '_history'].filter((s) => s !== undefined).join('/')}`;
  const selfQuery = new URLSearchParams(req.query);
  const link = [{ relation: 'self', url: withQuery(base, selfQuery) }];
  const last = page[page.length - 1];
  if (more && last !== undefined) {
    const next = new URLSearchParams(req.query);
    next.set('_cursor', String(last.hid));
    link.push({ relation: 'next', url: withQuery(base, next) });
  }
  return {
    status: 200,
    headers: { 'content-type': FHIR_JSON },
    body: bundleText('history', entries, { link }),
    disclosed,
  };
}

function withQuery(base: string, q: URLSearchParams): string {
  const s = q.toString();
  return s === '' ? base : `${base}?${s}`;
}
