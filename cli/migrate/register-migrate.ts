import type { Command } from 'commander';
import type { Config } from '../../common/config.js';
import { CliError, print, wantsJson } from '../output.js';
import { parseEndpoint } from './endpoint.js';
import type { MigrateSummary, Migrator } from './migrator.js';
import { MIGRATORS } from './migrators.js';
import { progressDisplay } from './progress.js';

interface MigrateOptions {
  from: string;
  to: string;
  resume?: boolean;
}

/**
 * `hearth migrate --from <URL> --to <URL> [--resume]`: copies a deployment's data (store, auth
 * state, audit trail) from one engine to another, streamed in batches with a progress bar. The
 * target must be empty (a fresh schema or DATA_DIR); `--resume` finishes a migrate that was
 * interrupted (the target must hold the beginning of the same source). Stop the servers on both
 * sides first: what the source gains during the copy is not carried over.
 */
export function registerMigrateCommand(
  program: Command,
  getConfig: () => Config,
  migrators: readonly Migrator[] = MIGRATORS,
): void {
  program
    .command('migrate')
    .description('copy every resource version, the auth state and the audit trail between engines')
    .requiredOption('--from <url>', 'sqlite:<DATA_DIR or fhir.db> or postgres://…[?schema=name]')
    .requiredOption('--to <url>', 'sqlite:<DATA_DIR or fhir.db> or postgres://…[?schema=name]')
    .option('--resume', 'finish an interrupted migrate into the same target')
    .action(async (opts: MigrateOptions, cmd: Command) => {
      const config = getConfig();
      const from = parseEndpoint(opts.from, config);
      const to = parseEndpoint(opts.to, config);
      if (from.config.storeUrl === to.config.storeUrl) {
        throw new CliError('--from and --to name the same store');
      }
      const resume = opts.resume === true;
      for (const m of migrators) await m.check(from, to, resume);
      const progress = progressDisplay(process.stderr.isTTY && !wantsJson(cmd));
      const result: Record<string, MigrateSummary | string> = { from: from.label, to: to.label };
      try {
        for (const m of migrators) result[m.name] = await m.copy(from, to, progress);
      } finally {
        progress.stop();
      }
      const human = migrators.map((m) => `${m.name}: ${JSON.stringify(result[m.name])}`).join('\n');
      print(cmd, result, `migrated ${from.label} → ${to.label}\n${human}`);
    });
}
