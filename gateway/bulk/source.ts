import http from 'node:http';
import { createInterface } from 'node:readline';
import {
  BULK_EXPORT_PATH,
  BULK_IMPORT_PATH,
  INTERNAL_SECRET_HEADER,
  type ExportQuery,
  type ImportMode,
  type LineResult,
} from '../../store/index.js';

/**
 * Where bulk jobs read and write FHIR data. The server uses the built-in store's trusted bulk
 * endpoints over its Unix socket; the CLI an in-process store (same queries, same write path).
 */
export interface BulkSource {
  /** Lines `<rid> <resource JSON>` (or a bare `<rid>` cursor move), in rid order. */
  exportLines(q: ExportQuery, signal: AbortSignal): AsyncIterable<string>;
  importBatch(text: string, mode: ImportMode, signal: AbortSignal): Promise<LineResult[]>;
  /** A Group's JSON, or undefined when there is no such live Group. */
  readGroup(id: string): Promise<Record<string, unknown> | undefined>;
}

export interface SocketSourceOptions {
  socketPath: string;
  internalSecret: string;
}

function request(
  o: SocketSourceOptions,
  method: string,
  path: string,
  body: string | undefined,
  signal?: AbortSignal,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: o.socketPath,
        method,
        path,
        headers: {
          [INTERNAL_SECRET_HEADER]: o.internalSecret,
          'content-type': 'application/json',
          accept: 'application/fhir+json',
        },
        ...(signal === undefined ? {} : { signal }),
      },
      resolve,
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function text(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function expectOk(res: http.IncomingMessage, what: string): Promise<void> {
  if (res.statusCode === 200) return;
  const body = await text(res);
  throw new Error(`store ${what} answered ${res.statusCode ?? '?'}: ${body.slice(0, 300)}`);
}

export function socketSource(o: SocketSourceOptions): BulkSource {
  return {
    async *exportLines(q, signal) {
      const res = await request(o, 'POST', BULK_EXPORT_PATH, JSON.stringify(q), signal);
      await expectOk(res, 'export');
      const lines = createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY });
      try {
        for await (const line of lines) yield line;
      } finally {
        lines.close();
        res.destroy();
      }
      if (!res.complete) throw new Error('the store export stream ended early');
    },
    async importBatch(body, mode, signal) {
      const path = `${BULK_IMPORT_PATH}?mode=${encodeURIComponent(mode)}`;
      const res = await request(o, 'POST', path, body, signal);
      await expectOk(res, 'import');
      return (JSON.parse(await text(res)) as { results: LineResult[] }).results;
    },
    async readGroup(id) {
      const res = await request(o, 'GET', `/Group/${encodeURIComponent(id)}`, undefined);
      if (res.statusCode !== 200) {
        res.resume();
        return undefined;
      }
      return JSON.parse(await text(res)) as Record<string, unknown>;
    },
  };
}
