/** Where the auth state lives on PostgreSQL. */
export interface AuthPostgresTarget {
  /** The connection string for `pg`, without Hearth's `schema` parameter. */
  readonly connectionString: string;
  /** `<store schema>_auth`: `hearth_auth` when STORE_URL names no schema. */
  readonly schema: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The auth schema for a STORE_URL `postgres://…[?schema=name]`: the store's schema (default
 * `hearth`) with `_auth` appended, so the store and auth never share a table namespace and a second
 * Hearth on another schema keeps its own accounts.
 */
export function authPostgresTarget(storeUrl: string): AuthPostgresTarget {
  let url: URL;
  try {
    url = new URL(storeUrl);
  } catch {
    throw new Error('STORE_URL: not a valid postgres:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error('STORE_URL: a PostgreSQL URL starts with postgres:// or postgresql://');
  }
  const schema = `${url.searchParams.get('schema') ?? 'hearth'}_auth`;
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(
      `STORE_URL: the auth schema name ${schema} must match ${SCHEMA_NAME.source} (shorten ?schema=)`,
    );
  }
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema };
}
