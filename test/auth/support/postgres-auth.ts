import pg from 'pg';
import { freshSchema, TEST_POSTGRES_URL } from '../../support/postgres.js';

export interface TestAuthSchema {
  /** The store schema named in `url` (auth lives in `<schema>_auth`). */
  readonly schema: string;
  /** STORE_URL: TEST_POSTGRES_URL with `?schema=<schema>`. */
  readonly url: string;
  /** Drops the store schema and the auth schema. */
  drop(): Promise<void>;
}

/** A fresh STORE_URL on the test server; `drop()` removes `<schema>` and `<schema>_auth`. */
export function freshAuthSchema(): TestAuthSchema {
  const target = freshSchema();
  return {
    schema: target.schema,
    url: target.url,
    drop: async () => {
      await target.drop();
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${target.schema}_auth" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
