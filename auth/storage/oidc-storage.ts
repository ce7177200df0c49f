import type { AdapterPayload } from 'oidc-provider';

/**
 * Where oidc-provider's artefacts (sessions, interactions, grants, codes, refresh tokens, replay
 * records…) live. The SQLite implementation is the default; a PostgreSQL one implements the same
 * interface (one row per model and id, with the grant id, uid and user code indexed).
 */
export interface OidcStorage {
  upsert(
    model: string,
    id: string,
    payload: AdapterPayload,
    expiresIn: number | undefined,
  ): Promise<void>;
  find(model: string, id: string): Promise<AdapterPayload | undefined>;
  findByUid(model: string, uid: string): Promise<AdapterPayload | undefined>;
  findByUserCode(model: string, userCode: string): Promise<AdapterPayload | undefined>;
  consume(model: string, id: string): Promise<void>;
  destroy(model: string, id: string): Promise<void>;
  revokeByGrantId(model: string, grantId: string): Promise<void>;
  /** Moves an artefact's expiry to `expiresIn` seconds from now (payload `exp` included). */
  extend(model: string, id: string, expiresIn: number): Promise<void>;
  /** Removes expired rows; returns how many. */
  purgeExpired(): Promise<number>;
}
