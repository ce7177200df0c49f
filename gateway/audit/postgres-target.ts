import { companionSchema, type CompanionSchema } from '../../common/postgres-schema.js';

export { isPostgresUrl } from '../../common/postgres-schema.js';

/** Where the PostgreSQL audit trail lives: `<store schema>_audit` (`hearth_audit` by default). */
export type AuditPgTarget = CompanionSchema;

export function auditPgTarget(storeUrl: string): AuditPgTarget {
  return companionSchema(storeUrl, 'audit');
}
