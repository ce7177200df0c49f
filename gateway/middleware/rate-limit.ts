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
const clientOfToken = new Map<string, string>();

/** The `client_id` claim of a bearer token, decoded once per token (a client reuses its token). */
function clientOf(token: string): string {
  let client = clientOfToken.get(token);
  if (client !== undefined) return client;
  try {
    const claims = decodeJwt(token);
    client = typeof claims.client_id === 'string' ? claims.client_id : '';
  } catch {
    client = '';
  }
  if (clientOfToken.size >= 10_000) clientOfToken.clear();
  clientOfToken.set(token, client);
  return client;
}

function clientKey(ctx: GatewayContext): string {
  const auth = ctx.get('authorization');
  const client = auth.startsWith('Bearer ') ? clientOf(auth.slice(7)) : '';
  return `${client}\u0000${ctx.ip}`;
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
