import { postgresUrl } from '../../../common/postgres-schema.js';

/** Where a PostgreSQL engine keeps its tables. */
export interface PostgresTarget {
  /** The connection string passed to `pg`, without Hearth's own query parameters. */
  connectionString: string;
  /** The schema holding the tables (created by `migrate`). */
  schema: string;
}

/** The schema when the URL names none. */
export const DEFAULT_SCHEMA = 'hearth';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws unless `name` is a plain lower-case identifier (it is spliced into DDL, quoted). */
export function checkSchemaName(name: string): string {
  if (!SCHEMA_NAME.test(name)) {
    throw new Error(`PostgreSQL schema name must match ${SCHEMA_NAME.source}: ${name}`);
  }
  return name;
}

/**
 * Reads `postgres://user@host:port/db?schema=name` (`postgresql://` too). `schema` is Hearth's own
 * parameter (default `hearth`) and is removed before the URL reaches `pg`; every other parameter
 * (sslmode, application_name, …) is passed through.
 */
export function parsePostgresUrl(url: string): PostgresTarget {
  const parsed = postgresUrl(url);
  const schema = checkSchemaName(parsed.searchParams.get('schema') ?? DEFAULT_SCHEMA);
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

/** `"name"`: a quoted identifier (names are checked first, so no quote can occur inside). */
export function quoteIdent(name: string): string {
  return `"${checkSchemaName(name)}"`;
}
