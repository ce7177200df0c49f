import type { IncomingMessage } from 'node:http';
import { badRequest, payloadTooLarge } from '../../store/fhir/outcome.js';
import { parseInteraction } from '../authz/interaction.js';
import type { GatewayMiddleware } from '../state.js';

/** Reads a request body up to `max` bytes (413 beyond). */
export async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > max) throw payloadTooLarge(`the body is larger than ${max} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > max) throw payloadTooLarge(`the body is larger than ${max} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Parses the FHIR interaction (and reads the body of methods that carry one). */
export function parseFhirInteraction(maxBodyBytes: number): GatewayMiddleware {
  return async function parseFhirInteractionStep(ctx, next) {
    const query = new URLSearchParams(ctx.querystring);
    const ifNoneExist = ctx.get('if-none-exist');
    ctx.state.interaction = parseInteraction(
      ctx.method,
      ctx.state.fhirPath,
      query,
      ifNoneExist === '' ? undefined : ifNoneExist,
    );
    if (ctx.method === 'POST' || ctx.method === 'PUT' || ctx.method === 'PATCH') {
      ctx.state.body = await readBody(ctx.req, maxBodyBytes);
      if (
        ctx.state.interaction.kind === 'search-type' ||
        ctx.state.interaction.kind === 'search-system'
      ) {
        if (!ctx.is('application/x-www-form-urlencoded')) {
          throw badRequest('POST _search needs an application/x-www-form-urlencoded body');
        }
        // Search parameters in the body count as much as those in the URL.
        for (const [k, v] of new URLSearchParams(ctx.state.body.toString('utf8')))
          query.append(k, v);
      }
    }
    await next();
  };
}

/** Parses a JSON body, 400 when it is not JSON. */
export function jsonBody(body: Buffer | undefined): unknown {
  if (body === undefined || body.length === 0) throw badRequest('a JSON body is required');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('the body is not valid JSON');
  }
}
