import type { IncomingMessage } from 'node:http';
import { badRequest, isFhirError, payloadTooLarge } from '../fhir/outcome.js';

/** Reads a request body of at most `max` bytes; more is a 413 (checked against Content-Length first). */
export async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (!Number.isNaN(declared) && declared > max) {
    throw payloadTooLarge(`the request body is larger than ${max} bytes (MAX_BODY_BYTES)`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > max)
        throw payloadTooLarge(`the request body is larger than ${max} bytes (MAX_BODY_BYTES)`);
      chunks.push(b);
    }
  } catch (err) {
    // A client that hangs up mid-body is not a server error.
    if (isFhirError(err)) throw err;
    throw badRequest('the request body was cut short');
  }
  return Buffer.concat(chunks);
}
