import { auditMigrator } from './audit-migrator.js';
import { authMigrator } from './auth-migrator.js';
import type { Migrator } from './migrator.js';
import { storeMigrator } from './store-migrator.js';

/**
 * What `hearth migrate` carries across, in order. All `check`s run before any `copy`. The audit
 * trail, copied last, is verified after everything else succeeded.
 */
export const MIGRATORS: readonly Migrator[] = [storeMigrator, authMigrator, auditMigrator];
