import http, { type IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { decodeConstraint, type AccessConstraint } from '../../../store/protocol.js';
import {
  constraintAllows as resourceAllowed,
  patientCompartments as patientsOf,
} from '../../../store/index.js';

/**
 * A small, real FHIR R4 server over HTTP for proxy tests: read, vread, history, search (by `_id`,
 * `patient`, `subject`, `code`, compartment), create, update, delete, metadata, and the trusted-caller
 * protocol of store/protocol.ts (constraint honoured, disclosed entities and patients reported).
 */
export interface MiniFhir {
  url: string;
  socketPath: string | undefined;
  requests: { method: string; url: string; headers: IncomingHttpHeaders }[];
  put(resource: Record<string, unknown>): void;
  delayMs: number;
  close(): Promise<void>;
}

/** Whether an Accept-Encoding value admits gzip (absent: every coding, RFC 9110 12.5.3). */
function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return true;
  return header.split(',').some((part) => {
    const [coding = '', ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return (coding === 'gzip' || coding === '*') && (q === undefined || Number(q.slice(2)) > 0);
  });
}

type Res = Record<string, unknown> & {
  resourceType: string;
  id: string;
  meta?: { versionId?: string; lastUpdated?: string };
};

export async function startMiniFhir(
  opts: {
    socketPath?: string;
    basePath?: string;
    secret?: string;
    publicBase?: string;
    /**
     * Gzip answers as many servers and their proxies do: when the request's Accept-Encoding (or
     * its absence, which RFC 9110 reads as "any") allows it, or always.
     */
    gzip?: 'when-allowed' | 'always' | undefined;
  } = {},
): Promise<MiniFhir> {
  const versions = new Map<string, Res[]>();
  const base = opts.basePath ?? '';
  const state: MiniFhir = {
    url: '',
    socketPath: opts.socketPath,
    requests: [],
    delayMs: 0,
    put: () => undefined,
    close: () => Promise.resolve(),
  };
  const put = (r: Record<string, unknown>): Res => {
    const key = `${String(r.resourceType)}/${String(r.id)}`;
    const list = versions.get(key) ?? [];
    const v: Res = {
      ...(r as Res),
      meta: { versionId: String(list.length + 1), lastUpdated: new Date().toISOString() },
    };
    list.push(v);
    versions.set(key, list);
    return v;
  };
  state.put = (r) => {
    put(r);
  };
  let nextId = 1000;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const go = (): void => {
        handle(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks), res);
      };
      if (state.delayMs > 0) setTimeout(go, state.delayMs);
      else go();
    });
  });
  const publicBase = (): string => opts.publicBase ?? state.url;
  function send(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
    disclosed: Res[] = [],
  ): void {
    const h: Record<string, string> = { 'content-type': 'application/fhir+json', ...headers };
    if (trusted) {
      h['x-hearth-entities'] = disclosed
        .map((r) => `${r.resourceType}/${r.id}/_history/${r.meta?.versionId ?? '1'}`)
        .join(',');
      h['x-hearth-patients'] = [...new Set(disclosed.flatMap((r) => patientsOf(r)))].join(',');
    }
    let text: Buffer | undefined =
      body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (text !== undefined && gzipAllowed) {
      text = gzipSync(text);
      h['content-encoding'] = 'gzip';
    }
    res.writeHead(status, h);
    res.end(text);
  }
  let trusted = false;
  let gzipAllowed = false;
  function handle(
    method: string,
    rawUrl: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
    res: http.ServerResponse,
  ): void {
    const url = new URL(rawUrl, 'http://x');
    let path = url.pathname;
    if (base !== '' && path.startsWith(base)) path = path.slice(base.length);
    const segs = path.split('/').filter((s) => s !== '');
    trusted = opts.secret !== undefined && headers['x-hearth-internal'] === opts.secret;
    gzipAllowed =
      opts.gzip === 'always' ||
      (opts.gzip === 'when-allowed' && acceptsGzip(headers['accept-encoding']));
    const cHeader = headers['x-hearth-constraint'];
    const constraint: AccessConstraint | undefined =
      trusted && typeof cHeader === 'string' ? decodeConstraint(cHeader) : undefined;
    const visible = (r: Res): boolean => constraint === undefined || resourceAllowed(constraint, r);
    const notFound = (): void => {
      send(res, 404, {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'not-found', diagnostics: 'not found' }],
      });
    };
    const [a, b, c, d] = segs;
    if (a === 'metadata') {
      send(res, 200, {
        resourceType: 'CapabilityStatement',
        status: 'active',
        kind: 'instance',
        fhirVersion: '4.0.1',
        format: ['json'],
        date: '2026-01-01',
        implementation: { description: 'mini', url: publicBase() },
        rest: [{ mode: 'server', resource: [{ type: 'Patient' }, { type: 'Observation' }] }],
      });
      return;
    }
    if (a === undefined) {
      notFound();
      return;
    }
    if (method === 'GET' && b !== undefined && c === undefined) {
      const r = versions.get(`${a}/${b}`)?.at(-1);
      if (r === undefined || r.deleted === true || !visible(r)) {
        notFound();
        return;
      }
      send(res, 200, r, { etag: `W/"${r.meta?.versionId ?? ''}"` }, [r]);
      return;
    }
    if (method === 'GET' && c === '_history') {
      const list = (versions.get(`${a}/${b ?? ''}`) ?? []).filter(visible);
      if (d !== undefined) {
        const v = list.find((x) => x.meta?.versionId === d);
        if (v === undefined) notFound();
        else send(res, 200, v, {}, [v]);
        return;
      }
      send(
        res,
        200,
        {
          resourceType: 'Bundle',
          type: 'history',
          total: list.length,
          entry: list.map((r) => ({ fullUrl: `${publicBase()}/${a}/${r.id}`, resource: r })),
        },
        {},
        list,
      );
      return;
    }
    const searchType = b === undefined ? a : a === 'Patient' && c !== undefined ? c : undefined;
    if (method === 'GET' && searchType !== undefined) {
      const q = url.searchParams;
      let all = [...versions.values()]
        .map((l) => l.at(-1))
        .filter(
          (r): r is Res => r !== undefined && r.resourceType === searchType && r.deleted !== true,
        );
      const compartment = b !== undefined ? b : undefined;
      if (compartment !== undefined) all = all.filter((r) => patientsOf(r).includes(compartment));
      for (const [k, v] of q) {
        if (k === '_id') all = all.filter((r) => v.split(',').includes(r.id));
        if (k === 'patient' || k === 'subject')
          all = all.filter((r) => patientsOf(r).includes(v.replace(/^Patient\//, '')));
        if (k === 'code')
          all = all.filter((r) => JSON.stringify(r.code ?? '').includes(v.split('|').at(-1) ?? ''));
      }
      all = all.filter(visible);
      send(
        res,
        200,
        {
          resourceType: 'Bundle',
          type: 'searchset',
          total: all.length,
          link: [{ relation: 'self', url: `${publicBase()}/${searchType}${url.search}` }],
          entry: all.map((r) => ({
            fullUrl: `${publicBase()}/${searchType}/${r.id}`,
            resource: r,
            search: { mode: 'match' },
          })),
        },
        {},
        all,
      );
      return;
    }
    if (method === 'POST' && b === undefined) {
      const r = JSON.parse(body.toString('utf8')) as Res;
      r.id = String(nextId++);
      if (!visible(r)) {
        send(res, 403, {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'forbidden' }],
        });
        return;
      }
      const v = put(r);
      send(res, 201, v, { location: `${publicBase()}/${a}/${v.id}/_history/1`, etag: 'W/"1"' }, [
        v,
      ]);
      return;
    }
    if ((method === 'PUT' || method === 'DELETE') && b !== undefined) {
      const cur = versions.get(`${a}/${b}`)?.at(-1);
      if (cur !== undefined && !visible(cur)) {
        notFound();
        return;
      }
      const r =
        method === 'PUT'
          ? (JSON.parse(body.toString('utf8')) as Res)
          : { ...(cur ?? { resourceType: a, id: b }), deleted: true };
      const v = put({ ...r, id: b });
      send(
        res,
        method === 'PUT' ? (cur === undefined ? 201 : 200) : 204,
        method === 'PUT' ? v : undefined,
        {},
        [v],
      );
      return;
    }
    send(res, 400, {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'not-supported' }],
    });
  }
  await new Promise<void>((resolve) => {
    if (opts.socketPath !== undefined) server.listen(opts.socketPath, resolve);
    else server.listen(0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  state.url =
    typeof addr === 'string' || addr === null
      ? `http://localhost${base}`
      : `http://127.0.0.1:${addr.port}${base}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });
  return state;
}
