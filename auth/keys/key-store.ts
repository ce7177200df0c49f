import { randomBytes } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JSONWebKeySet,
} from 'jose';
import { nowSeconds, type AuthDb } from '../db/open-auth-db.js';

/**
 * Signing keys (RS256, for access and id tokens) and cookie keys, kept in the auth database in
 * DATA_DIR: generated on first start, never committed. `rotate` puts a new key in use; an old signing
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

export class KeyStore {
  readonly #live;
  readonly #insert;
  readonly #retire;
  readonly #version;

  constructor(private readonly db: AuthDb) {
    this.#live = db.prepare<[number], KeyRow>(
      `SELECT kid, use, private_jwk, retired_at FROM signing_keys
       WHERE unpublish_at IS NULL OR unpublish_at > ? ORDER BY retired_at IS NOT NULL, created_at DESC, rowid DESC`,
    );
    this.#insert = db.prepare<[string, string, string, number]>(
      'INSERT INTO signing_keys (kid, use, private_jwk, created_at) VALUES (?, ?, ?, ?)',
    );
    this.#retire = db.prepare<[number, number, string]>(
      'UPDATE signing_keys SET retired_at = ?, unpublish_at = ? WHERE use = ? AND retired_at IS NULL',
    );
    this.#version = db.prepare<[number], { v: string | null }>(
      `SELECT group_concat(kid) AS v FROM (SELECT kid FROM signing_keys
       WHERE unpublish_at IS NULL OR unpublish_at > ? ORDER BY kid)`,
    );
  }

  /** Creates the first signing and cookie keys when there are none. */
  async ensure(): Promise<void> {
    const rows = this.#live.all(nowSeconds());
    const hasSig = rows.some((r) => r.use === 'sig' && r.retired_at === null);
    const hasCookie = rows.some((r) => r.use === 'cookie' && r.retired_at === null);
    const sig = hasSig ? undefined : await newSigningKey();
    this.db.transaction(() => {
      const now = nowSeconds();
      if (sig !== undefined) this.#insert.run(sig.kid, 'sig', JSON.stringify(sig.jwk), now);
      if (!hasCookie)
        this.#insert.run(
          `cookie-${randomBytes(8).toString('hex')}`,
          'cookie',
          JSON.stringify(randomBytes(32).toString('base64url')),
          now,
        );
    })();
  }

  /** Puts new signing and cookie keys in use; old ones stay published/valid for their grace period. */
  async rotate(): Promise<{ kid: string }> {
    const sig = await newSigningKey();
    this.db.transaction(() => {
      const now = nowSeconds();
      this.#retire.run(now, now + SIGNING_KEY_GRACE_SECONDS, 'sig');
      this.#retire.run(now, now + COOKIE_KEY_GRACE_SECONDS, 'cookie');
      this.#insert.run(sig.kid, 'sig', JSON.stringify(sig.jwk), now);
      this.#insert.run(
        `cookie-${randomBytes(8).toString('hex')}`,
        'cookie',
        JSON.stringify(randomBytes(32).toString('base64url')),
        now,
      );
    })();
    return { kid: sig.kid };
  }

  /** A cheap fingerprint of the live key set. */
  version(): string {
    return this.#version.get(nowSeconds())?.v ?? '';
  }

  material(): KeyMaterial {
    const rows = this.#live.all(nowSeconds());
    const sig = rows.filter((r) => r.use === 'sig').map((r) => JSON.parse(r.private_jwk) as JWK);
    const cookieKeys = rows
      .filter((r) => r.use === 'cookie')
      .map((r) => JSON.parse(r.private_jwk) as string);
    const signing = sig[0];
    if (signing === undefined || cookieKeys.length === 0)
      throw new Error('no signing key: call ensure() first');
    return { signing, jwks: { keys: sig.map(publicPart) }, cookieKeys, version: this.version() };
  }
}
