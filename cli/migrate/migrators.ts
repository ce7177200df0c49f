import { auditMigrator } from './audit-migrator.js';
import type { Migrator } from './migrator.js';
import { storeMigrator } from './store-migrator.js';

/**
 * What `hearth migrate` carries across, in order. All `check`s run before any `copy`.
 *
 * AUTH STATE: the auth migrator (a `Migrator` around auth/'s `copyAuthState`) is added here by
 * the composition of the CLI — between the store and the audit trail, so the audit trail, copied
 * last, is verified after everything else succeeded.
 */
export const MIGRATORS: readonly Migrator[] = [storeMigrator, auditMigrator];
