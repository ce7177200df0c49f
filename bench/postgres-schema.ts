import pg from 'pg';

/** A fresh PostgreSQL schema for one run, and a way to drop it (with the auth and audit schemas). */
export async function postgresSchema(
  url: string,
): Promise<{ storeUrl: string; drop(): Promise<void> }> {
  const schema = `hearth_bench_${Date.now().toString(36)}`;
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.end();
  return {
    storeUrl: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const { rows } = await c.query<{ nspname: string }>(
          'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
          [`${schema}%`],
        );
        for (const r of rows) await c.query(`DROP SCHEMA IF EXISTS "${r.nspname}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}
