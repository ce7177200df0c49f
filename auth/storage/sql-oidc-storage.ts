import type { AdapterPayload } from 'oidc-provider';
import { nowSeconds, type AuthSql } from '../db/auth-sql.js';
import type { OidcStorage } from './oidc-storage.js';

interface Row {
  payload: string;
}

const LIVE = '(expires_at IS NULL OR expires_at > ?)';

/** JSON edits of a stored payload: the only SQL the two engines spell differently. */
const SET_MEMBER = {
  sqlite: (member: string) => `json_set(payload, '$.${member}', ?)`,
  postgres: (member: string) =>
    `(payload::jsonb || jsonb_build_object('${member}', ?::bigint))::text`,
};

/** OidcStorage on the auth database (SQLite or PostgreSQL), one row per model and id. */
export class SqlOidcStorage implements OidcStorage {
  readonly #consume: string;
  readonly #extend: string;

  constructor(private readonly db: AuthSql) {
    const set = SET_MEMBER[db.engine];
    this.#consume = `UPDATE oidc_payloads SET payload = ${set('consumed')} WHERE model = ? AND id = ?`;
    this.#extend = `UPDATE oidc_payloads SET expires_at = ?, payload = ${set('exp')} WHERE model = ? AND id = ?`;
  }

  async upsert(
    model: string,
    id: string,
    payload: AdapterPayload,
    expiresIn: number | undefined,
  ): Promise<void> {
    const expiresAt = expiresIn === undefined ? null : nowSeconds() + expiresIn;
    await this.db.run(
      `INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, user_code, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
         uid = excluded.uid, user_code = excluded.user_code, expires_at = excluded.expires_at`,
      [
        model,
        id,
        JSON.stringify(payload),
        payload.grantId ?? (model === 'Grant' ? id : null),
        payload.uid ?? null,
        payload.userCode ?? null,
        expiresAt,
      ],
    );
  }

  async find(model: string, id: string): Promise<AdapterPayload | undefined> {
    return parse(
      await this.db.get<Row>(
        `SELECT payload FROM oidc_payloads WHERE model = ? AND id = ? AND ${LIVE}`,
        [model, id, nowSeconds()],
      ),
    );
  }

  async findByUid(model: string, uid: string): Promise<AdapterPayload | undefined> {
    return parse(
      await this.db.get<Row>(
        `SELECT payload FROM oidc_payloads WHERE model = ? AND uid = ? AND ${LIVE}`,
        [model, uid, nowSeconds()],
      ),
    );
  }

  async findByUserCode(model: string, userCode: string): Promise<AdapterPayload | undefined> {
    return parse(
      await this.db.get<Row>(
        `SELECT payload FROM oidc_payloads WHERE model = ? AND user_code = ? AND ${LIVE}`,
        [model, userCode, nowSeconds()],
      ),
    );
  }

  async consume(model: string, id: string): Promise<void> {
    await this.db.run(this.#consume, [nowSeconds(), model, id]);
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.db.run('DELETE FROM oidc_payloads WHERE model = ? AND id = ?', [model, id]);
  }

  async revokeByGrantId(model: string, grantId: string): Promise<void> {
    await this.db.run('DELETE FROM oidc_payloads WHERE model = ? AND grant_id = ?', [
      model,
      grantId,
    ]);
  }

  async extend(model: string, id: string, expiresIn: number): Promise<void> {
    const exp = nowSeconds() + expiresIn;
    await this.db.run(this.#extend, [exp, exp, model, id]);
  }

  purgeExpired(): Promise<number> {
    return this.db.run(
      'DELETE FROM oidc_payloads WHERE expires_at IS NOT NULL AND expires_at <= ?',
      [nowSeconds()],
    );
  }
}

function parse(row: Row | undefined): AdapterPayload | undefined {
  return row === undefined ? undefined : (JSON.parse(row.payload) as AdapterPayload);
}
