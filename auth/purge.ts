import { nowSeconds, type AuthDb } from './db/open-auth-db.js';
import type { TokenLiveness } from './liveness.js';
import type { OidcStorage } from './storage/oidc-storage.js';

/** Removes expired artefacts: oidc-provider rows, revoked-token ids, launches, grant contexts, old signing keys. */
export async function purgeExpired(
  db: AuthDb,
  storage: OidcStorage,
  liveness: TokenLiveness,
): Promise<void> {
  await storage.purgeExpired();
  liveness.purgeExpired();
  const now = nowSeconds();
  db.prepare('DELETE FROM launches WHERE expires_at <= ?').run(now);
  db.prepare('DELETE FROM grant_context WHERE expires_at <= ?').run(now);
  db.prepare('DELETE FROM signing_keys WHERE unpublish_at IS NOT NULL AND unpublish_at <= ?').run(
    now,
  );
  db.prepare('DELETE FROM admin_changes WHERE at < ?').run(now - 7 * 86_400);
  db.prepare('DELETE FROM login_failures WHERE window_start <= ? AND locked_until <= ?').run(
    now - 86_400,
    now,
  );
}
