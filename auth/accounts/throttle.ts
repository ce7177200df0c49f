import { nowSeconds, type AuthSql } from '../db/auth-sql.js';

/**
 * Failed-login throttling, per account and per client address, kept in the auth database so every
 * worker (and restarts) see the same counts. After `limit` failures within `window` seconds the key
 * is locked for `lockSeconds`, doubling on each further lock-out (at most one day).
 */
export interface ThrottlePolicy {
  readonly limit: number;
  readonly windowSeconds: number;
  readonly lockSeconds: number;
}

export const ACCOUNT_POLICY: ThrottlePolicy = { limit: 5, windowSeconds: 900, lockSeconds: 60 };
export const ADDRESS_POLICY: ThrottlePolicy = { limit: 20, windowSeconds: 900, lockSeconds: 60 };

interface Row {
  failures: number;
  window_start: number;
  locked_until: number;
}

const GET = 'SELECT failures, window_start, locked_until FROM login_failures WHERE key = ?';

export class LoginThrottle {
  constructor(private readonly db: AuthSql) {}

  /** Seconds until `key` may try again; 0 when it may try now. */
  async retryAfter(key: string): Promise<number> {
    const row = await this.db.get<Row>(GET, [key]);
    if (row === undefined) return 0;
    return Math.max(0, row.locked_until - nowSeconds());
  }

  /** Counts a failure; processes failing the same key at once serialise (no lost counts). */
  async fail(key: string, policy: ThrottlePolicy): Promise<void> {
    await this.db.transaction(async (tx) => {
      const now = nowSeconds();
      const row = await tx.get<Row>(GET, [key]);
      const fresh = row === undefined || now - row.window_start > policy.windowSeconds;
      const failures = fresh ? 1 : row.failures + 1;
      const windowStart = fresh ? now : row.window_start;
      let lockedUntil = row?.locked_until ?? 0;
      if (failures >= policy.limit) {
        const lockouts = failures - policy.limit;
        lockedUntil = now + Math.min(86_400, policy.lockSeconds * 2 ** lockouts);
      }
      await tx.run(
        `INSERT INTO login_failures (key, failures, window_start, locked_until) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
           window_start = excluded.window_start, locked_until = excluded.locked_until`,
        [key, failures, windowStart, lockedUntil],
      );
    }, `login:${key}`);
  }

  async succeed(key: string): Promise<void> {
    await this.db.run('DELETE FROM login_failures WHERE key = ?', [key]);
  }
}
