import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../common/config.js';
import { CliError, print } from '../cli/output.js';
import type { AuditStore } from './audit/audit-store.js';
import type { Checkpoint } from './audit/checkpoint.js';
import { openAuditStore } from './audit/open-audit-store.js';
import { isPostgresUrl } from './audit/postgres-target.js';
import { AUDIT_DB_FILE } from './audit/sqlite-audit-store.js';
import { verifyAudit } from './audit/verify.js';
import { azureName } from './authz/data-actions.js';
import { RoleSet } from './authz/roles.js';

/**
 * The deployment's audit store: PostgreSQL (`<store schema>_audit`) when STORE_URL is
 * `postgres://…`, else `DATA_DIR/audit.db`, which must exist.
 */
function openConfiguredAudit(config: Config, readonly: boolean): AuditStore {
  if (!isPostgresUrl(config.storeUrl)) {
    const file = path.join(config.dataDir, AUDIT_DB_FILE);
    if (!existsSync(file)) throw new CliError(`no audit database at ${file}`);
  }
  try {
    return openAuditStore({
      dataDir: config.dataDir,
      sync: config.sqliteSync,
      storeUrl: config.storeUrl,
      readonly,
    });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

function readKept(files: string[]): Checkpoint[] {
  return files.map((f) => {
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as Checkpoint;
    } catch (err) {
      throw new CliError(`cannot read checkpoint ${f}: ${(err as Error).message}`);
    }
  });
}

/** `hearth roles`, `hearth audit checkpoint`, `hearth audit verify`. */
export function registerGatewayCommands(program: Command, getConfig: () => Config): void {
  program
    .command('roles')
    .description('list every role with its data actions')
    .action((_opts: unknown, cmd: Command) => {
      let roles: RoleSet;
      try {
        roles = RoleSet.fromFile(getConfig().rolesFile);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      const list = roles
        .list()
        .map((r) => ({ ...r, azureDataActions: r.dataActions.map(azureName) }));
      const human = list
        .map(
          (r) =>
            `${r.name}${r.builtIn ? '' : ' (custom)'}: ${r.dataActions.join(', ') || '(none)'}${r.resourceTypes === undefined ? '' : ` on ${r.resourceTypes.join(', ')}`}\n  ${r.description}`,
        )
        .join('\n');
      print(cmd, list, human);
    });
  const auditCmd = program.command('audit').description('the tamper-evident audit trail');
  auditCmd
    .command('checkpoint')
    .description(
      'sign the current head of the audit chain and print the checkpoint (keep it outside the server)',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const store = openConfiguredAudit(getConfig(), false);
      try {
        const key = await store.signingKey(false);
        if (key === undefined)
          throw new CliError(`the audit signing key is missing (${store.where})`);
        const cp = await store.checkpoint(key);
        print(cmd, cp, JSON.stringify(cp));
      } finally {
        await store.close();
      }
    });
  auditCmd
    .command('verify')
    .description(
      'exit 0 when the audit chain is intact, else exit 1 naming the first broken record',
    )
    .option(
      '--checkpoint <file...>',
      'checkpoints kept outside the server (from `hearth audit checkpoint`)',
    )
    .action(async (opts: { checkpoint?: string[] }, cmd: Command) => {
      const kept = readKept(opts.checkpoint ?? []);
      const store = openConfiguredAudit(getConfig(), true);
      let result;
      try {
        const key = await store.signingKey(false);
        result = await verifyAudit(store, kept, key?.keyId);
      } finally {
        await store.close();
      }
      if (!result.ok) throw new CliError(`audit chain broken: ${result.problem}`);
      print(
        cmd,
        result,
        `audit chain intact: ${result.records} records, ${result.checkpoints} checkpoints`,
      );
    });
}
