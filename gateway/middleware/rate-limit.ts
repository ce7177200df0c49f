import { decodeJwt } from 'jose';
import { tooManyRequests } from '../../store/fhir/outcome.js';
import type { GatewayContext, GatewayMiddleware } from '../state.js';

export interface RateLimitOptions {
  /** Requests a client may make at once (bucket size). */
  burst: number;
  /** Sustained requests per second per client. */
  perSecond: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { burst: 40_000, perSecond: 20_000 };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * The client a request counts against: the token's `client_id` (read without verification, so it
 * is combined with the address: a forged claim can only drain the forger's own bucket), or the
 * address alone for requests without a token.
 */
interface ClientOfHeader {
  client: string;
  /** The bucket key last built for this header, and the address it was built for. */
  ip: string | undefined;
  key: string;
}

/** Per `Authorization` header (a client reuses its token): its client, decoded once. */
const clientOfHeader = new Map<string, ClientOfHeader>();

/** For a `Bearer ` header only. */
function clientOf(header: string): ClientOfHeader {
  let known = clientOfHeader.get(header);
  if (known !== undefined) return known;
  let client: string;
  try {
    const claims = decodeJwt(header.slice(7));
    client = typeof claims.client_id === 'string' ? claims.client_id : '';
  } catch {
    client = '';
  }
  if (clientOfHeader.size >= 10_000) clientOfHeader.clear();
  known = { client, ip: undefined, key: '' };
  clientOfHeader.set(header, known);
  return known;
}

/** `client NUL address`; for a token, the same string object while its address stays the same. */
function clientKey(ctx: GatewayContext): string {
  const ip = ctx.ip;
  const auth = ctx.req.headers.authorization;
  if (auth === undefined || !auth.startsWith('Bearer ')) return `\u0000${ip}`;
  const c = clientOf(auth);
  if (c.ip !== ip) {
    c.ip = ip;
    c.key = `${c.client}\u0000${ip}`;
  }
  return c.key;
}

/** A token bucket per client; over the limit: 429 with `Retry-After`. */
export function rateLimit(opts: RateLimitOptions): GatewayMiddleware {
  const buckets = new Map<string, Bucket>();
  return async function rateLimitStep(ctx, next) {
    const now = performance.now();
    const key = clientKey(ctx);
    let b = buckets.get(key);
    if (b === undefined) {
      if (buckets.size > 50_000) {
        for (const [k, v] of buckets) if (now - v.at > 60_000) buckets.delete(k);
      }
      b = { tokens: opts.burst, at: now };
      buckets.set(key, b);
    } else {
      b.tokens = Math.min(opts.burst, b.tokens + ((now - b.at) / 1000) * opts.perSecond);
      b.at = now;
    }
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / opts.perSecond));
      throw tooManyRequests('too many requests from this client', wait);
    }
    b.tokens -= 1;
    await next();
  };
}
