import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The test server (CI starts it): 127.0.0.1:5432, trust auth, database `test`. */
export const TEST_POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  /** A fresh, random schema name (`hearth_test_…`), not yet created. */
  schema: string;
  /** TEST_POSTGRES_URL with `?schema=` set: what STORE_URL would be. */
  url: string;
  /** Drops the schema and everything in it, and the auth and audit schemas beside it. */
  drop(): Promise<void>;
}

/** A random schema for one test; engines create it on `migrate`, `drop()` removes it. */
export function freshSchema(): TestSchema {
  const schema = `hearth_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return {
    schema,
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.query(`DROP SCHEMA IF EXISTS "${schema}_auth" CASCADE`);
        await client.query(`DROP SCHEMA IF EXISTS "${schema}_audit" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
