import type { AdapterPayload } from 'oidc-provider';
import { nowSeconds, type AuthDb } from '../db/open-auth-db.js';
import type { OidcStorage } from './oidc-storage.js';

interface Row {
  payload: string;
}

/** OidcStorage on the auth SQLite database, with prepared statements. */
export class SqliteOidcStorage implements OidcStorage {
  readonly #upsert;
  readonly #find;
  readonly #findByUid;
  readonly #findByUserCode;
  readonly #consume;
  readonly #destroy;
  readonly #revoke;
  readonly #purge;
  readonly #extend;

  constructor(db: AuthDb) {
    this.#upsert = db.prepare<
      [string, string, string, string | null, string | null, string | null, number | null]
    >(
      `INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, user_code, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
         uid = excluded.uid, user_code = excluded.user_code, expires_at = excluded.expires_at`,
    );
    const live = '(expires_at IS NULL OR expires_at > ?)';
    this.#find = db.prepare<[string, string, number], Row>(
      `SELECT payload FROM oidc_payloads WHERE model = ? AND id = ? AND ${live}`,
    );
    this.#findByUid = db.prepare<[string, string, number], Row>(
      `SELECT payload FROM oidc_payloads WHERE model = ? AND uid = ? AND ${live}`,
    );
    this.#findByUserCode = db.prepare<[string, string, number], Row>(
      `SELECT payload FROM oidc_payloads WHERE model = ? AND user_code = ? AND ${live}`,
    );
    this.#consume = db.prepare<[number, string, string]>(
      `UPDATE oidc_payloads SET payload = json_set(payload, '$.consumed', ?) WHERE model = ? AND id = ?`,
    );
    this.#destroy = db.prepare<[string, string]>(
      'DELETE FROM oidc_payloads WHERE model = ? AND id = ?',
    );
    this.#revoke = db.prepare<[string, string]>(
      'DELETE FROM oidc_payloads WHERE model = ? AND grant_id = ?',
    );
    this.#extend = db.prepare<[number, number, string, string]>(
      `UPDATE oidc_payloads SET expires_at = ?, payload = json_set(payload, '$.exp', ?)
       WHERE model = ? AND id = ?`,
    );
    this.#purge = db.prepare<[number]>(
      'DELETE FROM oidc_payloads WHERE expires_at IS NOT NULL AND expires_at <= ?',
    );
  }

  upsert(
    model: string,
    id: string,
    payload: AdapterPayload,
    expiresIn: number | undefined,
  ): Promise<void> {
    const expiresAt = expiresIn === undefined ? null : nowSeconds() + expiresIn;
    this.#upsert.run(
      model,
      id,
      JSON.stringify(payload),
      payload.grantId ?? (model === 'Grant' ? id : null),
      payload.uid ?? null,
      payload.userCode ?? null,
      expiresAt,
    );
    return Promise.resolve();
  }

  find(model: string, id: string): Promise<AdapterPayload | undefined> {
    return Promise.resolve(parse(this.#find.get(model, id, nowSeconds())));
  }

  findByUid(model: string, uid: string): Promise<AdapterPayload | undefined> {
    return Promise.resolve(parse(this.#findByUid.get(model, uid, nowSeconds())));
  }

  findByUserCode(model: string, userCode: string): Promise<AdapterPayload | undefined> {
    return Promise.resolve(parse(this.#findByUserCode.get(model, userCode, nowSeconds())));
  }

  consume(model: string, id: string): Promise<void> {
    this.#consume.run(nowSeconds(), model, id);
    return Promise.resolve();
  }

  destroy(model: string, id: string): Promise<void> {
    this.#destroy.run(model, id);
    return Promise.resolve();
  }

  revokeByGrantId(model: string, grantId: string): Promise<void> {
    this.#revoke.run(model, grantId);
    return Promise.resolve();
  }

  extend(model: string, id: string, expiresIn: number): Promise<void> {
    const exp = nowSeconds() + expiresIn;
    this.#extend.run(exp, exp, model, id);
    return Promise.resolve();
  }

  purgeExpired(): Promise<number> {
    return Promise.resolve(this.#purge.run(nowSeconds()).changes);
  }
}

function parse(row: Row | undefined): AdapterPayload | undefined {
  return row === undefined ? undefined : (JSON.parse(row.payload) as AdapterPayload);
}
