import http, {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import httpProxy from 'http-proxy';
import { Pool } from 'undici';
import { badGateway, gatewayTimeout } from '../../store/fhir/outcome.js';
import {
  CONSTRAINT_HEADER,
  INTERNAL_HEADER_PREFIX,
  INTERNAL_SECRET_HEADER,
  REQUEST_ID_HEADER,
  STORE_RESPONSE_MAX_HEADER_BYTES,
  encodeConstraint,
  type AccessConstraint,
} from '../../store/protocol.js';

/** Where the gateway sends FHIR requests. */
export interface UpstreamOptions {
  /** The built-in store's Unix socket. */
  socketPath?: string | undefined;
  /**
   * The backend's FHIR base URL: `FHIR_UPSTREAM`, or for the socket the base path it is served at
   * (`http://localhost/fhir`; default `http://localhost` with `socketPath`).
   */
  url?: string | undefined;
  /** The shared secret proving the gateway is the store's trusted caller. */
  internalSecret?: string | undefined;
  /** The built-in store: honours the access constraint and reports disclosed entities. */
  isBuiltInStore: boolean;
  /** `FHIR_UPSTREAM_AUTHORIZATION`: the Authorization header sent to an external upstream. */
  authorization?: string | undefined;
  /** A request taking longer is answered 504 (default 30 s). */
  timeoutMs?: number | undefined;
}

export interface UpstreamCall {
  method: string;
  /** Path and query below the FHIR base (`Observation?code=x`). */
  path: string;
  headers: IncomingHttpHeaders;
  body?: Buffer | undefined;
  constraint?: AccessConstraint | undefined;
  requestId: string;
}

export interface BufferedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const encodings = new WeakMap<AccessConstraint, string>();

/** The header form of a constraint, encoded once per (memoised) constraint object. */
function encoded(c: AccessConstraint): string {
  let e = encodings.get(c);
  if (e === undefined) {
    e = encodeConstraint(c);
    encodings.set(c, e);
  }
  return e;
}

/** Request headers never passed on: credentials, hop-by-hop, and anything internal. */
const DROP = new Set([
  'authorization',
  'cookie',
  'host',
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
  // The gateway reads every answer (to filter, rewrite and audit it): an external upstream is
  // asked for identity instead (outgoingHeaders), the built-in store never compresses.
  'accept-encoding',
]);

/**
 * The most bytes an upstream answer may decode to. A compressed answer can expand a
 * thousandfold; past this the gateway answers 502 rather than exhaust its memory.
 */
export const MAX_DECODED_BYTES = 512 * 1024 * 1024;

const DECODERS: Readonly<Record<string, (b: Buffer, o: zlib.ZlibOptions) => Promise<Buffer>>> = {
  gzip: promisify<Buffer, zlib.ZlibOptions, Buffer>(zlib.gunzip),
  'x-gzip': promisify<Buffer, zlib.ZlibOptions, Buffer>(zlib.gunzip),
  deflate: promisify<Buffer, zlib.ZlibOptions, Buffer>(zlib.inflate),
  br: promisify<Buffer, zlib.BrotliOptions, Buffer>(zlib.brotliDecompress),
};

/**
 * An upstream answer as identity bytes. The gateway asks for `identity`, but a server (or a proxy
 * in front of it) may compress regardless: gzip, deflate and br are undone, in the reverse order of
 * `Content-Encoding`, and the header goes (with the length, which no longer holds). Any other
 * coding, a corrupt body, or one decoding past {@link MAX_DECODED_BYTES} is a 502.
 */
export async function decodeUpstreamBody(res: BufferedResponse): Promise<BufferedResponse> {
  const header = res.headers['content-encoding'];
  if (header === undefined) return res;
  const codings = header
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  let body = res.body;
  for (const coding of codings.reverse()) {
    const decode = DECODERS[coding];
    if (decode === undefined)
      throw badGateway(`the FHIR backend answered with an unsupported Content-Encoding: ${coding}`);
    try {
      body = await decode(body, { maxOutputLength: MAX_DECODED_BYTES });
    } catch {
      throw badGateway(`the FHIR backend's ${coding} answer could not be decoded`);
    }
  }
  const headers = { ...res.headers };
  delete headers['content-encoding'];
  delete headers['content-length'];
  return { status: res.status, headers, body };
}

/** undici's header map (lower-case names) as node's IncomingHttpHeaders. */
function incomingHeaders(h: Record<string, string | string[] | undefined>): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const k in h) {
    const v = h[k];
    if (v === undefined) continue;
    if (k === 'set-cookie') out[k] = Array.isArray(v) ? v : [v];
    else out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * The connection to the FHIR backend. The built-in store (a Unix socket) is reached through an
 * undici connection pool: every request, the client's and the gateway's own, is one call whose
 * answer is read whole (store pages are bounded by `_count`), which costs the gateway markedly less
 * CPU per request than node:http's client under http-proxy (see the README's benchmark notes). An
 * external FHIR_UPSTREAM keeps http-proxy with keep-alive for client requests and plain requests on
 * the same agent for the gateway's own calls (batch entries, metadata, `$authz`).
 */
export class Upstream {
  readonly isBuiltInStore: boolean;
  readonly baseUrl: URL;
  /** The base URL's path, '' for `/`. */
  private readonly basePath: string;
  private readonly opts: UpstreamOptions;
  private readonly agent: http.Agent;
  private readonly proxy: httpProxy;
  private readonly timeoutMs: number;
  private readonly pending = new WeakMap<IncomingMessage, (res: IncomingMessage) => void>();
  /** The built-in store's pool (undefined for an external upstream). */
  private readonly pool: Pool | undefined;

  constructor(opts: UpstreamOptions) {
    if (opts.socketPath === undefined && opts.url === undefined) {
      throw new Error('upstream needs a socketPath or a url');
    }
    this.opts = opts;
    this.isBuiltInStore = opts.isBuiltInStore;
    this.baseUrl = new URL((opts.url ?? 'http://localhost').replace(/\/+$/, ''));
    this.basePath = this.baseUrl.pathname === '/' ? '' : this.baseUrl.pathname;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    const agentOpts = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64 };
    this.agent =
      this.baseUrl.protocol === 'https:' && opts.socketPath === undefined
        ? new https.Agent(agentOpts)
        : new http.Agent(agentOpts);
    this.proxy = httpProxy.createProxyServer({
      agent: this.agent,
      selfHandleResponse: true,
      ignorePath: true,
      xfwd: false,
      proxyTimeout: this.timeoutMs,
    });
    this.pool =
      opts.socketPath === undefined
        ? undefined
        : new Pool('http://localhost', {
            socketPath: opts.socketPath,
            connections: 64,
            pipelining: 1,
            headersTimeout: this.timeoutMs,
            bodyTimeout: this.timeoutMs,
            keepAliveTimeout: 60_000,
            // The store's disclosure headers name every resource of a response (store/protocol.ts).
            maxHeaderSize: STORE_RESPONSE_MAX_HEADER_BYTES,
          });
    this.proxy.on('proxyRes', (proxyRes, req) => {
      const done = this.pending.get(req);
      this.pending.delete(req);
      done?.(proxyRes);
    });
  }

  /** The path on the backend for a path below the FHIR base. */
  targetPath(path: string): string {
    return `${this.basePath}/${path.charCodeAt(0) === 0x2f ? path.replace(/^\/+/, '') : path}`;
  }

  private outgoingHeaders(call: UpstreamCall): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    const headers = call.headers;
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined || DROP.has(name) || name.startsWith(INTERNAL_HEADER_PREFIX))
        continue;
      out[name] = value;
    }
    out.host = this.baseUrl.host;
    out[REQUEST_ID_HEADER] = call.requestId;
    if (call.body !== undefined) out['content-length'] = String(call.body.length);
    if (this.opts.isBuiltInStore) {
      if (this.opts.internalSecret !== undefined)
        out[INTERNAL_SECRET_HEADER] = this.opts.internalSecret;
      if (call.constraint !== undefined) out[CONSTRAINT_HEADER] = encoded(call.constraint);
    } else {
      // Without the header a server may choose any coding (RFC 9110 §12.5.3).
      out['accept-encoding'] = 'identity';
      if (this.opts.authorization !== undefined) out.authorization = this.opts.authorization;
    }
    return out;
  }

  private target(path: string): {
    protocol: string;
    host: string;
    port: number;
    path: string;
    socketPath?: string;
  } {
    const t = {
      protocol: this.opts.socketPath === undefined ? this.baseUrl.protocol : 'http:',
      host: this.baseUrl.hostname,
      port: Number(this.baseUrl.port || (this.baseUrl.protocol === 'https:' ? 443 : 80)),
      path: this.targetPath(path),
    };
    return this.opts.socketPath === undefined ? t : { ...t, socketPath: this.opts.socketPath };
  }

  private failure(err: unknown, started: number): Error {
    const code = (err as { code?: string }).code;
    if (performance.now() - started >= this.timeoutMs - 5 || code === 'ETIMEDOUT') {
      return gatewayTimeout('the FHIR backend did not answer in time');
    }
    return badGateway('the FHIR backend is unavailable');
  }

  /**
   * Proxies a client request with http-proxy; resolves with the backend's response stream (its
   * body not yet read) so the caller can audit before releasing it.
   */
  forward(
    req: IncomingMessage,
    res: http.ServerResponse,
    call: UpstreamCall,
  ): Promise<IncomingMessage> {
    const started = performance.now();
    req.headers = this.outgoingHeaders(call) as IncomingHttpHeaders;
    return new Promise((resolve, reject) => {
      this.pending.set(req, resolve);
      this.proxy.web(
        req,
        res,
        {
          target: this.target(call.path),
          buffer: Readable.from(call.body === undefined ? [] : [call.body]),
        },
        (err) => {
          this.pending.delete(req);
          reject(this.failure(err, started));
        },
      );
    });
  }

  /** Whether requests go through the built-in store's pool (then use {@link request} for all). */
  get pooled(): boolean {
    return this.pool !== undefined;
  }

  /**
   * One request through the pool with a bare dispatch handler: the answer is collected as it
   * arrives, without the stream and body-mixin machinery of `pool.request` (less work per request).
   */
  private poolRequest(pool: Pool, call: UpstreamCall): Promise<BufferedResponse> {
    const started = performance.now();
    return new Promise<BufferedResponse>((resolve, reject) => {
      let status = 0;
      let headers: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      pool.dispatch(
        {
          method: call.method,
          path: this.targetPath(call.path),
          headers: this.outgoingHeaders(call) as Record<string, string>,
          body: call.body === undefined || call.body.length === 0 ? null : call.body,
        },
        {
          // (undici treats a handler without onRequestStart as one of its deprecated kind.)
          onRequestStart: () => undefined,
          onResponseStart: (_controller, statusCode, h) => {
            if (statusCode < 200) return;
            status = statusCode;
            headers = incomingHeaders(h);
          },
          onResponseData: (_controller, chunk) => {
            chunks.push(chunk);
          },
          onResponseEnd: () => {
            const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
            resolve({ status, headers, body });
          },
          onResponseError: (_controller, err) => {
            const code = (err as { code?: string }).code;
            reject(
              this.failure(
                code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
                  ? Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })
                  : err,
                started,
              ),
            );
          },
        },
      );
    });
  }

  /** Sends a request and reads the whole answer (every request to the built-in store). */
  request(call: UpstreamCall): Promise<BufferedResponse> {
    if (this.pool !== undefined) return this.poolRequest(this.pool, call);
    const started = performance.now();
    const t = this.target(call.path);
    const lib = t.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        {
          agent: this.agent,
          method: call.method,
          path: t.path,
          headers: this.outgoingHeaders(call),
          ...(this.opts.socketPath === undefined
            ? { host: t.host, port: t.port }
            : { socketPath: this.opts.socketPath }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            decodeUpstreamBody({
              status: res.statusCode ?? 502,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }).then(resolve, reject);
          });
          res.on('error', (err) => {
            reject(this.failure(err, started));
          });
        },
      );
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', (err) => {
        reject(this.failure(err, started));
      });
      req.end(call.body);
    });
  }

  close(): void {
    this.proxy.close();
    this.agent.destroy();
    void this.pool?.destroy();
  }
}
