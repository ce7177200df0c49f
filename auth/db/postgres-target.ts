import { companionSchema, type CompanionSchema } from '../../common/postgres-schema.js';

/** Where the auth state lives on PostgreSQL: `<store schema>_auth` (`hearth_auth` by default). */
export type AuthPostgresTarget = CompanionSchema;

export function authPostgresTarget(storeUrl: string): AuthPostgresTarget {
  return companionSchema(storeUrl, 'auth');
}
