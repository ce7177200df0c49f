import { freshSchema, type TestSchema } from '../../support/postgres.js';

/** A STORE_URL on the test server whose auth state lives in `<schema>_auth`. */
export type TestAuthSchema = TestSchema;

/** A fresh STORE_URL; `drop()` removes `<schema>` and `<schema>_auth`. */
export const freshAuthSchema = (): TestAuthSchema => freshSchema();
