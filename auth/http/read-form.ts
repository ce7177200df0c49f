import type { IncomingMessage } from 'node:http';

/** Thrown when a form body is too large or not `application/x-www-form-urlencoded`. */
export class FormError extends Error {
  override readonly name = 'FormError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Reads an `application/x-www-form-urlencoded` body (at most `limit` bytes). */
export async function readForm(req: IncomingMessage, limit = 64 * 1024): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new FormError('expected an application/x-www-form-urlencoded body', 415);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new FormError('request body too large', 413);
    chunks.push(buf);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
