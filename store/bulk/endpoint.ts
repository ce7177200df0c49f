import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorResponse } from '../http/errors.js';
import { readBody } from '../http/read-body.js';
import { isTrusted } from '../http/trusted.js';
import type { StoreContext } from '../http/types.js';
import { badRequest } from '../fhir/outcome.js';
import { BULK_EXPORT_PATH, BULK_IMPORT_PATH } from '../protocol.js';
import type { Indexer } from '../repo/indexer.js';
import { parseExportQuery } from './export-query.js';
import { exportLines } from './export-stream.js';
import { importLines } from './import-lines.js';

async function streamExport(ctx: StoreContext, req: IncomingMessage, res: ServerResponse) {
  const body = await readBody(req, ctx.config.maxBodyBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('export query must be JSON');
  }
  const q = parseExportQuery(parsed);
  const lines = exportLines(ctx.engine, q);
  const state = { closed: false };
  res.on('close', () => {
    state.closed = true;
  });
  let first = await lines.next();
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  while (first.done !== true && !state.closed) {
    if (!res.write(`${first.value}\n`)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
    first = await lines.next();
  }
  await lines.return(undefined);
  res.end();
}

async function runImport(
  ctx: StoreContext,
  indexer: Indexer,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) {
  const mode = url.searchParams.get('mode') ?? 'IncrementalLoad';
  if (mode !== 'InitialLoad' && mode !== 'IncrementalLoad') throw badRequest('unknown mode');
  const body = await readBody(req, ctx.config.maxBodyBytes);
  const results = await importLines(ctx, indexer, body.toString('utf8'), mode);
  const text = JSON.stringify({ results });
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * The store's bulk endpoints (paths in protocol.ts), for the trusted caller only (anyone else
 * falls through to the FHIR router, where `_bulk` is no resource type):
 * - `POST /_bulk/export` with an ExportQuery as JSON: NDJSON lines `<rid> <resource>` (streamed);
 * - `POST /_bulk/import?mode=InitialLoad|IncrementalLoad` with NDJSON: one LineResult per line.
 *
 * Returns a listener that handles the bulk paths and returns true, or returns false.
 */
export function bulkStoreEndpoint(
  ctx: StoreContext,
  indexer: Indexer,
  secret: string | undefined,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return function bulkStore(req, res) {
    // both endpoints take POST only: every other request (each read) skips parsing its URL here
    if (req.method !== 'POST') return false;
    const url = new URL(req.url ?? '/', 'http://store');
    const isExport = url.pathname === BULK_EXPORT_PATH;
    const isImport = url.pathname === BULK_IMPORT_PATH;
    if ((!isExport && !isImport) || !isTrusted(req.headers, secret)) {
      return false;
    }
    const work = isExport ? streamExport(ctx, req, res) : runImport(ctx, indexer, req, res, url);
    work.catch((err: unknown) => {
      if (res.headersSent) {
        ctx.log.error({ err }, 'bulk export stream failed');
        res.destroy();
        return;
      }
      const r = errorResponse(err, ctx.log);
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    });
    return true;
  };
}
