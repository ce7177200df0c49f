import { nowSeconds, type AuthSql } from './db/auth-sql.js';
import type { TokenLiveness } from './liveness.js';
import type { OidcStorage } from './storage/oidc-storage.js';

/** Removes expired artefacts: oidc-provider rows, revoked-token ids, launches, grant contexts, old signing keys. */
export async function purgeExpired(
  db: AuthSql,
  storage: OidcStorage,
  liveness: TokenLiveness,
): Promise<void> {
  await storage.purgeExpired();
  await liveness.purgeExpired();
  const now = nowSeconds();
  await db.run('DELETE FROM launches WHERE expires_at <= ?', [now]);
  await db.run('DELETE FROM grant_context WHERE expires_at <= ?', [now]);
  await db.run('DELETE FROM signing_keys WHERE unpublish_at IS NOT NULL AND unpublish_at <= ?', [
    now,
  ]);
  await db.run('DELETE FROM admin_changes WHERE at < ?', [now - 7 * 86_400]);
  await db.run('DELETE FROM login_failures WHERE window_start <= ? AND locked_until <= ?', [
    now - 86_400,
    now,
  ]);
}
