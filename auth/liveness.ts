import { TurnBatch } from '../common/turn-batch.js';
import { nowSeconds, type AuthSql } from './db/auth-sql.js';
import type { AccessTokenClaims } from './types.js';

/** Revoked token ids this process remembers (they can never come back to life). */
const REVOKED_CACHE_MAX = 10_000;

/**
 * Everything liveness needs, in one round trip (a handful of primary-key lookups): whether the token
 * id is revoked, the client's roles, whether the grant is live, the user's flag and roles.
 */
const LIVENESS = `SELECT
  CASE WHEN EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?) THEN 1 ELSE 0 END AS revoked,
  (SELECT roles FROM clients WHERE client_id = ?) AS client_roles,
  CASE WHEN EXISTS (SELECT 1 FROM oidc_payloads WHERE model = 'Grant' AND id = ?
    AND (expires_at IS NULL OR expires_at > ?)) THEN 1 ELSE 0 END AS grant_live,
  (SELECT enabled FROM users WHERE id = ?) AS user_enabled,
  (SELECT roles FROM users WHERE id = ?) AS user_roles`;

interface Row {
  revoked: number;
  client_roles: string | null;
  grant_live: number;
  user_enabled: number | null;
  user_roles: string | null;
}

/** A liveness answer and what it was computed from: the database's change stamp and the second. */
interface Answer {
  stamp: number;
  at: number;
  alive: boolean;
}

/**
 * The per-request liveness check the gateway runs on every verified access token. It asks the auth
 * database (shared by every process on PostgreSQL), so a revocation, a disabled or removed user,
 * changed roles or a removed client made anywhere is refused on the very next request. Revoked ids
 * are cached locally, since those never become valid again. Where the database has a change stamp
 * (SQLite's data_version: any commit by any connection or process moves it), the answer for the
 * same claims object (the gateway keeps one per cached token) is reused while neither the stamp nor
 * the current second has changed: the answer is a function of those alone. The stamp is read once
 * per event-loop turn, once the turn's callbacks have run, for every check of the turn.
 *
 * Without a stamp (PostgreSQL), the checks of one claims object made during an event-loop turn
 * share one query, sent once the turn's callbacks have run (TurnBatch): every request it answers
 * had arrived before the query was sent, so a change committed before any of them arrived is in the
 * query's snapshot. Under load one token's requests arrive several to a turn; each used to cost a
 * round trip of its own.
 */
export class TokenLiveness {
  readonly #revoked = new Map<string, number>();
  readonly #answers = new WeakMap<AccessTokenClaims, Answer>();
  /** Without a change stamp: the checks of a turn, one query per claims object. */
  readonly #turn = new TurnBatch<AccessTokenClaims, boolean>(async (asked) => {
    const now = nowSeconds();
    return new Map(
      await Promise.all(asked.map(async (c) => [c, await this.#ask(c, now)] as const)),
    );
  }, false);
  /**
   * With a change stamp: read once per event-loop turn, after the turn's callbacks have run, for
   * every check of the turn: each came from a request that arrived before the read, so a commit
   * made before any of them arrived has moved it. Reading it is a `PRAGMA data_version`, which
   * takes SQLite's shared-memory locks (system calls); under load several requests arrive per turn.
   */
  readonly #stampOfTurn = new TurnBatch<'stamp', number | undefined>(
    (keys) => Promise.resolve(new Map(keys.map((k) => [k, this.db.changeStamp?.()]))),
    undefined,
  );

  constructor(private readonly db: AuthSql) {}

  isAlive(claims: AccessTokenClaims): Promise<boolean> {
    if (this.db.changeStamp === undefined) return this.#turn.get(claims);
    return this.#stampOfTurn.get('stamp').then((stamp) => this.#byStamp(claims, stamp));
  }

  #byStamp(claims: AccessTokenClaims, stamp: number | undefined): boolean | Promise<boolean> {
    // Read before the query runs: a commit in between only makes the next call ask again.
    if (stamp === undefined) return this.#turn.get(claims);
    const now = nowSeconds();
    const known = this.#answers.get(claims);
    if (known !== undefined && known.stamp === stamp && known.at === now) return known.alive;
    return this.#ask(claims, now).then((alive) => {
      this.#answers.set(claims, { stamp, at: now, alive });
      return alive;
    });
  }

  async #ask(claims: AccessTokenClaims, now: number): Promise<boolean> {
    const { jti, sub, client_id: clientId, grant } = claims;
    if (typeof jti !== 'string' || typeof sub !== 'string' || typeof clientId !== 'string')
      return false;
    if (typeof claims.exp === 'number' && claims.exp <= now) return false;
    if (this.#revoked.has(jti)) return false;
    const userToken = typeof grant === 'string';
    const row = await this.db.get<Row>(LIVENESS, [
      jti,
      clientId,
      userToken ? grant : '',
      now,
      sub,
      sub,
    ]);
    if (row === undefined) return false;
    if (row.revoked === 1) {
      this.#remember(jti, typeof claims.exp === 'number' ? claims.exp : now + 3600);
      return false;
    }
    if (row.client_roles === null) return false;
    if (userToken) {
      if (row.grant_live !== 1) return false;
      if (row.user_enabled !== 1 || row.user_roles === null) return false;
      return sameRoles(row.user_roles, claims.roles);
    }
    return sub === clientId && sameRoles(row.client_roles, claims.roles);
  }

  /** Refuses this token id from now until it expires anyway (in every process sharing the database). */
  async revoke(jti: string, exp: number): Promise<void> {
    await this.db.run(
      'INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING',
      [jti, exp],
    );
    this.#remember(jti, exp);
  }

  #remember(jti: string, exp: number): void {
    if (this.#revoked.size >= REVOKED_CACHE_MAX) this.#forgetExpired();
    if (this.#revoked.size >= REVOKED_CACHE_MAX) return;
    this.#revoked.set(jti, exp);
  }

  #forgetExpired(): void {
    const now = nowSeconds();
    for (const [jti, exp] of this.#revoked) if (exp <= now) this.#revoked.delete(jti);
  }

  async purgeExpired(): Promise<number> {
    this.#forgetExpired();
    return this.db.run('DELETE FROM revoked_tokens WHERE expires_at <= ?', [nowSeconds()]);
  }
}

function sameRoles(stored: string, claimed: readonly string[] | undefined): boolean {
  const current = JSON.parse(stored) as string[];
  const token = [...(claimed ?? [])].sort();
  return current.length === token.length && current.every((r, i) => r === token[i]);
}
