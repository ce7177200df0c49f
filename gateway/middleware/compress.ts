import koaCompress from 'koa-compress';
import type { GatewayMiddleware } from '../state.js';

/** Answers smaller than this go as they are (a Patient read is about 1.2 KB). */
export const COMPRESS_THRESHOLD_BYTES = 1024;

/**
 * FHIR JSON (and plain JSON, such as an OperationOutcome's or SMART discovery's); not NDJSON, whose
 * Bulk Data downloads are served in byte ranges of the file as stored.
 */
function compressible(type: string): boolean {
  return /^application\/(?:fhir\+)?json$/i.test(type);
}

/**
 * Content coding of answers (RFC 9110 §8.4) for clients that ask for it with Accept-Encoding, as
 * browsers and HTTP libraries do: brotli (quality 4), gzip or deflate, by the client's weights;
 * no Accept-Encoding means identity. A search page of Observations shrinks about tenfold, the
 * CapabilityStatement from 0.7 MB to about 40 KB.
 *
 * It runs inside the audit step: the answer's compression starts on libuv's thread pool as soon as
 * the answer is known, while the audit record commits, and the compressed stream is sent only
 * after the audit step has returned (no audit, no data). Partial content, HEAD, bodiless
 * statuses and `Cache-Control: no-transform` are left alone (koa-compress).
 */
export function compressAnswers(): GatewayMiddleware {
  const compress = koaCompress({
    threshold: COMPRESS_THRESHOLD_BYTES,
    filter: compressible,
    // Node 22's zstd is experimental (and Node 20 has none): the same codings on every runtime.
    zstd: false,
  }) as unknown as GatewayMiddleware;
  return async function compressStep(ctx, next) {
    // Without Accept-Encoding the answer is identity (koa-compress's default): skip its
    // negotiation, as a client that sends none (a backend service, a load generator) would.
    if (ctx.req.headers['accept-encoding'] === undefined) {
      await next();
      ctx.vary('Accept-Encoding');
      return;
    }
    await compress(ctx, next);
  };
}
