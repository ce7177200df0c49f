/** One table of the auth state, as the copy between engines sees it. */
export interface AuthTable {
  readonly name: string;
  /** The primary key (the copy pages through the source in this order and upserts by it). */
  readonly key: readonly string[];
  readonly columns: readonly string[];
}

/**
 * Every table of the auth state. Columns are the same on both engines (PostgreSQL's `clients.rowid`,
 * the tie-break of clients registered in the same second, is generated on insert).
 */
export const AUTH_TABLES: readonly AuthTable[] = [
  {
    name: 'users',
    key: ['id'],
    columns: [
      'id',
      'username',
      'password_hash',
      'fhir_user',
      'roles',
      'enabled',
      'created_at',
      'updated_at',
    ],
  },
  {
    name: 'clients',
    key: ['client_id'],
    columns: ['client_id', 'name', 'metadata', 'roles', 'created_at'],
  },
  {
    name: 'signing_keys',
    key: ['kid'],
    columns: ['kid', 'use', 'private_jwk', 'created_at', 'retired_at', 'unpublish_at'],
  },
  {
    name: 'oidc_payloads',
    key: ['model', 'id'],
    columns: ['model', 'id', 'payload', 'grant_id', 'uid', 'user_code', 'expires_at'],
  },
  {
    name: 'launches',
    key: ['id'],
    columns: ['id', 'user_id', 'client_id', 'context', 'expires_at'],
  },
  { name: 'grant_context', key: ['grant_id'], columns: ['grant_id', 'context', 'expires_at'] },
  { name: 'revoked_tokens', key: ['jti'], columns: ['jti', 'expires_at'] },
  {
    name: 'admin_changes',
    key: ['id'],
    columns: ['id', 'at', 'kind', 'subject', 'change', 'emitted'],
  },
  {
    name: 'login_failures',
    key: ['key'],
    columns: ['key', 'failures', 'window_start', 'locked_until'],
  },
];
