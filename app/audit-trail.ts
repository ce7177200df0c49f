import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { AuditTrail } from '../gateway/index.js';

/** The deployment's audit trail where the configuration puts it (SQLite file or PostgreSQL schema). */
export function auditTrailFor(config: Config, log: Logger): AuditTrail {
  return new AuditTrail({
    dataDir: config.dataDir,
    sync: config.sqliteSync,
    storeUrl: config.storeUrl,
    ndjson: config.auditNdjson,
    log,
  });
}
