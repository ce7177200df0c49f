import { nowSeconds, type AuthDb } from '../db/open-auth-db.js';
import type { LaunchContext } from './launches.js';

/**
 * Launch context per oidc-provider Grant (its models keep a fixed set of fields), so codes, refresh
 * tokens and every access token of the grant carry the same patient, encounter, banner and style.
 */
export class GrantContexts {
  readonly #put;
  readonly #get;
  readonly #remove;
  readonly #extend;

  constructor(db: AuthDb) {
    this.#put = db.prepare<[string, string, number]>(
      `INSERT INTO grant_context (grant_id, context, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (grant_id) DO UPDATE SET context = excluded.context, expires_at = excluded.expires_at`,
    );
    this.#get = db.prepare<[string, number], { context: string }>(
      'SELECT context FROM grant_context WHERE grant_id = ? AND expires_at > ?',
    );
    this.#remove = db.prepare<[string]>('DELETE FROM grant_context WHERE grant_id = ?');
    this.#extend = db.prepare<[number, string]>(
      'UPDATE grant_context SET expires_at = max(expires_at, ?) WHERE grant_id = ?',
    );
  }

  put(grantId: string, context: LaunchContext, ttlSeconds: number): void {
    this.#put.run(grantId, JSON.stringify(context), nowSeconds() + ttlSeconds);
  }

  get(grantId: string): LaunchContext | undefined {
    const row = this.#get.get(grantId, nowSeconds());
    return row === undefined ? undefined : (JSON.parse(row.context) as LaunchContext);
  }

  extend(grantId: string, ttlSeconds: number): void {
    this.#extend.run(nowSeconds() + ttlSeconds, grantId);
  }

  remove(grantId: string): void {
    this.#remove.run(grantId);
  }
}
