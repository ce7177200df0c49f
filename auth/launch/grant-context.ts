import { nowSeconds, type AuthSql } from '../db/auth-sql.js';
import type { LaunchContext } from './launches.js';

/**
 * Launch context per oidc-provider Grant (its models keep a fixed set of fields), so codes, refresh
 * tokens and every access token of the grant carry the same patient, encounter, banner and style.
 */
export class GrantContexts {
  constructor(private readonly db: AuthSql) {}

  async put(grantId: string, context: LaunchContext, ttlSeconds: number): Promise<void> {
    await this.db.run(
      `INSERT INTO grant_context (grant_id, context, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (grant_id) DO UPDATE SET context = excluded.context, expires_at = excluded.expires_at`,
      [grantId, JSON.stringify(context), nowSeconds() + ttlSeconds],
    );
  }

  async get(grantId: string): Promise<LaunchContext | undefined> {
    const row = await this.db.get<{ context: string }>(
      'SELECT context FROM grant_context WHERE grant_id = ? AND expires_at > ?',
      [grantId, nowSeconds()],
    );
    return row === undefined ? undefined : (JSON.parse(row.context) as LaunchContext);
  }

  /** Moves the expiry to `ttlSeconds` from now unless it is already later. */
  async extend(grantId: string, ttlSeconds: number): Promise<void> {
    await this.db.run(
      'UPDATE grant_context SET expires_at = ? WHERE grant_id = ? AND expires_at < ?',
      [nowSeconds() + ttlSeconds, grantId, nowSeconds() + ttlSeconds],
    );
  }

  async remove(grantId: string): Promise<void> {
    await this.db.run('DELETE FROM grant_context WHERE grant_id = ?', [grantId]);
  }
}
