/** Where the PostgreSQL audit trail lives. */
export interface AuditPgTarget {
  /** The connection string for `pg`, without Hearth's `schema` parameter. */
  connectionString: string;
  /** `<store schema>_audit`: `hearth_audit` for the default store schema `hearth`. */
  schema: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The audit trail's place for `STORE_URL=postgres://…[?schema=name]`: the same database, in a
 * schema of its own named after the store's (`?schema=` as the store reads it, default `hearth`),
 * so one STORE_URL names the store, and its audit trail, for every process of a deployment.
 */
export function auditPgTarget(storeUrl: string): AuditPgTarget {
  let url: URL;
  try {
    url = new URL(storeUrl);
  } catch {
    throw new Error('STORE_URL: not a valid postgres:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error('STORE_URL: a PostgreSQL URL starts with postgres:// or postgresql://');
  }
  const schema = `${url.searchParams.get('schema') ?? 'hearth'}_audit`;
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(
      `the audit schema name ${schema} (STORE_URL schema + "_audit") must match ${SCHEMA_NAME.source}`,
    );
  }
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema };
}

export function isPostgresUrl(storeUrl: string): boolean {
  return /^postgres(ql)?:\/\//.test(storeUrl);
}
