import type { Command } from 'commander';
import type { Config } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { adminAuditEvent, AuditTrail, type AdminAuditInput } from '../gateway/index.js';

/** Commands that change state; each run (succeeded or failed) becomes an AuditEvent. */
const AUDITED: Record<string, AdminAuditInput['action']> = {
  'client add': 'C',
  'client remove': 'D',
  'user add': 'C',
  'user disable': 'U',
  'user enable': 'U',
  'user remove': 'D',
  'user passwd': 'U',
  'user roles': 'U',
  'keys rotate': 'U',
  reindex: 'U',
  import: 'C',
  export: 'R',
  migrate: 'C',
};

/** `user add` for a command whose parent is `user` (the root program is left out). */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c = cmd; c.parent !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Records an admin CLI change in the audit trail (the server's DATA_DIR; the trail's commit continues
 * from the true last record, so the CLI may write while the server runs; with STORE_URL=postgres://… the trail is
 * the database's). Only the command and its
 * positional arguments (user names, client ids, file names) are recorded, never option values such
 * as passwords.
 */
export async function auditCliCommand(
  config: Config,
  cmd: Command,
  success: boolean,
  detail?: string,
): Promise<void> {
  const path = commandPath(cmd);
  const action = AUDITED[path];
  if (action === undefined) return;
  const trail = new AuditTrail({
    dataDir: config.dataDir,
    sync: config.sqliteSync,
    storeUrl: config.storeUrl,
    ndjson: config.auditNdjson,
    log: createLogger('warn', 'hearth-cli'),
  });
  try {
    await trail.record(
      adminAuditEvent({
        activity: path.replace(/ /g, '-'),
        action,
        success,
        site: config.fhirBaseUrl,
        actor: `hearth-cli (${process.env.USER ?? 'unknown user'})`,
        what: cmd.args.filter((a) => !a.startsWith('-')),
        ...(detail === undefined ? {} : { detail }),
      }),
    );
  } finally {
    await trail.close();
  }
}
