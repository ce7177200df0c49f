import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../common/config.js';
import { CliError, print } from '../cli/output.js';
import { openAuditDb } from './audit/audit-db.js';
import { writeCheckpoint, type Checkpoint } from './audit/checkpoint.js';
import { loadCheckpointKey } from './audit/signing-key.js';
import { AUDIT_DB_FILE } from './audit/trail.js';
import { verifyAudit } from './audit/verify.js';
import { azureName } from './authz/data-actions.js';
import { RoleSet } from './authz/roles.js';

function auditFile(config: Config): string {
  const file = path.join(config.dataDir, AUDIT_DB_FILE);
  if (!existsSync(file)) throw new CliError(`no audit database at ${file}`);
  return file;
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
    .action((_opts: unknown, cmd: Command) => {
      const config = getConfig();
      const file = auditFile(config);
      const key = loadCheckpointKey(config.dataDir, false);
      if (key === undefined) throw new CliError('the audit signing key is missing from DATA_DIR');
      const db = openAuditDb(file, config.sqliteSync);
      try {
        const cp = writeCheckpoint(db, key);
        print(cmd, cp, JSON.stringify(cp));
      } finally {
        db.close();
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
    .action((opts: { checkpoint?: string[] }, cmd: Command) => {
      const config = getConfig();
      const file = auditFile(config);
      const key = loadCheckpointKey(config.dataDir, false);
      const db = openAuditDb(file, config.sqliteSync, true);
      let result;
      try {
        result = verifyAudit(db, readKept(opts.checkpoint ?? []), key?.keyId);
      } finally {
        db.close();
      }
      if (!result.ok) throw new CliError(`audit chain broken: ${result.problem}`);
      print(
        cmd,
        result,
        `audit chain intact: ${result.records} records, ${result.checkpoints} checkpoints`,
      );
    });
}
