import { randomBytes } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JSONWebKeySet,
} from 'jose';
import { nowSeconds, type AuthQueries, type AuthSql } from '../db/auth-sql.js';

/**
 * Signing keys (RS256, for access and id tokens) and cookie keys, kept in the auth database (auth.db
 * in DATA_DIR, or the shared PostgreSQL schema): generated on first start, never committed. `rotate` puts a new key in use; an old signing
 * key stays published until every token it signed has expired, an old cookie key keeps verifying
 * cookies until every session it signed has expired.
 */

/** Longest lifetime of anything signed by a signing key (access and id tokens: 1 h), plus skew. */
export const SIGNING_KEY_GRACE_SECONDS = 3600 + 300;
/** Longest session lifetime (cookies signed by an old cookie key). */
export const COOKIE_KEY_GRACE_SECONDS = 14 * 24 * 3600;

interface KeyRow {
  kid: string;
  use: 'sig' | 'cookie';
  private_jwk: string;
  retired_at: number | null;
}

export interface KeyMaterial {
  /** The signing key in use (private JWK with kid, alg, use). */
  readonly signing: JWK;
  /** Public JWKS: the key in use, then old keys still published. */
  readonly jwks: JSONWebKeySet;
  /** Cookie signing keys, newest first. */
  readonly cookieKeys: string[];
  /** Changes whenever the key set changes. */
  readonly version: string;
}

async function newSigningKey(): Promise<{ kid: string; jwk: JWK }> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

const PUBLIC_MEMBERS = ['kty', 'n', 'e', 'crv', 'x', 'y', 'kid', 'alg', 'use'] as const;

function publicPart(jwk: JWK): JWK {
  const out: JWK = {};
  for (const k of PUBLIC_MEMBERS) if (jwk[k] !== undefined) out[k] = jwk[k];
  return out;
}

const LIVE = `SELECT kid, use, private_jwk, retired_at FROM signing_keys
  WHERE unpublish_at IS NULL OR unpublish_at > ?
  ORDER BY CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END, created_at DESC, kid`;
const INSERT = 'INSERT INTO signing_keys (kid, use, private_jwk, created_at) VALUES (?, ?, ?, ?)';
const RETIRE =
  'UPDATE signing_keys SET retired_at = ?, unpublish_at = ? WHERE use = ? AND retired_at IS NULL';
/** Advisory lock name: key bootstrap and rotation of one auth schema run one at a time. */
const KEYS_LOCK = 'signing-keys';

function newCookieKey(): { kid: string; secret: string } {
  return {
    kid: `cookie-${randomBytes(8).toString('hex')}`,
    secret: JSON.stringify(randomBytes(32).toString('base64url')),
  };
}

async function insertKeys(
  tx: AuthQueries,
  sig: { kid: string; jwk: JWK } | undefined,
  cookie: boolean,
): Promise<void> {
  const now = nowSeconds();
  if (sig !== undefined) await tx.run(INSERT, [sig.kid, 'sig', JSON.stringify(sig.jwk), now]);
  if (cookie) {
    const c = newCookieKey();
    await tx.run(INSERT, [c.kid, 'cookie', c.secret, now]);
  }
}

export class KeyStore {
  constructor(private readonly db: AuthSql) {}

  async #activeUses(q: AuthQueries): Promise<Set<string>> {
    const rows = await q.all<{ use: string }>(
      'SELECT use FROM signing_keys WHERE retired_at IS NULL AND (unpublish_at IS NULL OR unpublish_at > ?)',
      [nowSeconds()],
    );
    return new Set(rows.map((r) => r.use));
  }

  /**
   * Creates the first signing and cookie keys when there are none. Processes starting at once on one
   * database serialise on a lock and re-check inside it, so exactly one key of each kind results.
   */
  async ensure(): Promise<void> {
    const before = await this.#activeUses(this.db);
    if (before.has('sig') && before.has('cookie')) return;
    const candidate = before.has('sig') ? undefined : await newSigningKey();
    await this.db.transaction(async (tx) => {
      const active = await this.#activeUses(tx);
      await insertKeys(tx, active.has('sig') ? undefined : candidate, !active.has('cookie'));
    }, KEYS_LOCK);
  }

  /** Puts new signing and cookie keys in use; old ones stay published/valid for their grace period. */
  async rotate(): Promise<{ kid: string }> {
    const sig = await newSigningKey();
    await this.db.transaction(async (tx) => {
      const now = nowSeconds();
      await tx.run(RETIRE, [now, now + SIGNING_KEY_GRACE_SECONDS, 'sig']);
      await tx.run(RETIRE, [now, now + COOKIE_KEY_GRACE_SECONDS, 'cookie']);
      await insertKeys(tx, sig, true);
    }, KEYS_LOCK);
    return { kid: sig.kid };
  }

  /** A cheap fingerprint of the live key set (one indexed read). */
  async version(): Promise<string> {
    const rows = await this.db.all<{ kid: string }>(
      'SELECT kid FROM signing_keys WHERE unpublish_at IS NULL OR unpublish_at > ?',
      [nowSeconds()],
    );
    return versionOf(rows);
  }

  async material(): Promise<KeyMaterial> {
    const rows = await this.db.all<KeyRow>(LIVE, [nowSeconds()]);
    const sig = rows.filter((r) => r.use === 'sig').map((r) => JSON.parse(r.private_jwk) as JWK);
    const cookieKeys = rows
      .filter((r) => r.use === 'cookie')
      .map((r) => JSON.parse(r.private_jwk) as string);
    const signing = sig[0];
    if (signing === undefined || cookieKeys.length === 0)
      throw new Error('no signing key: call ensure() first');
    return {
      signing,
      jwks: { keys: sig.map(publicPart) },
      cookieKeys,
      version: versionOf(rows),
    };
  }
}

/** The sorted key ids (sorted here: database collations differ). */
function versionOf(rows: readonly { kid: string }[]): string {
  return rows
    .map((r) => r.kid)
    .sort()
    .join(',');
}
