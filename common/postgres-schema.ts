/** A schema of its own next to the store's, in the database STORE_URL names. */
export interface CompanionSchema {
  /** The connection string for `pg`, without Hearth's `schema` parameter. */
  readonly connectionString: string;
  /** `<store schema>_<suffix>`: e.g. `hearth_auth` when STORE_URL names no schema. */
  readonly schema: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function isPostgresUrl(storeUrl: string): boolean {
  return /^postgres(ql)?:\/\//.test(storeUrl);
}

/** A `postgres://` or `postgresql://` STORE_URL as a URL; anything else is refused with why. */
export function postgresUrl(storeUrl: string): URL {
  let url: URL;
  try {
    url = new URL(storeUrl);
  } catch {
    throw new Error('STORE_URL: not a valid postgres:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error('STORE_URL: a PostgreSQL URL starts with postgres:// or postgresql://');
  }
  return url;
}

/**
 * Where a part of Hearth (auth, audit) keeps its tables for `STORE_URL=postgres://…[?schema=name]`:
 * the same database, in the store's schema name (default `hearth`) plus `_<suffix>`, so the parts
 * never share a table namespace and one STORE_URL names them all for every process of a deployment.
 */
export function companionSchema(storeUrl: string, suffix: 'auth' | 'audit'): CompanionSchema {
  const url = postgresUrl(storeUrl);
  const schema = `${url.searchParams.get('schema') ?? 'hearth'}_${suffix}`;
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(
      `STORE_URL: the ${suffix} schema name ${schema} must match ${SCHEMA_NAME.source} (shorten ?schema=)`,
    );
  }
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema };
}
