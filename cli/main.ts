import { Command, CommanderError } from 'commander';
import { loadConfig, type Config } from '../common/config.js';
import { registerAuthCommands } from '../auth/index.js';
import { registerBulkCommands, registerGatewayCommands } from '../gateway/index.js';
import { registerSearchCommands, registerStoreCommands } from '../store/server.js';
import { auditCliCommand } from './audit-admin.js';
import { registerMigrateCommand } from './migrate/register-migrate.js';
import { CliError } from './output.js';

/**
 * `hearth <command>`: the admin CLI of ../shared/CONTRACT.md. Each area registers its commands;
 * every command works against the same DATA_DIR / STORE_URL as the server, also while it runs.
 */

export type Register = (program: Command, config: () => Config) => void;

const registrations: Register[] = [
  registerStoreCommands,
  registerSearchCommands,
  registerAuthCommands,
  registerGatewayCommands,
  registerBulkCommands,
  registerMigrateCommand,
];

async function run(argv: string[]): Promise<void> {
  const program = new Command('hearth')
    .description('Hearth admin CLI')
    .option('--json', 'machine-readable JSON on stdout')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let config: Config | undefined;
  const getConfig = (): Config => (config ??= loadConfig());
  for (const register of registrations) register(program, getConfig);
  let running: Command | undefined;
  program.hook('preAction', (_root, action) => {
    running = action;
  });
  program.hook('postAction', async (_root, action) => {
    running = undefined;
    await auditCliCommand(getConfig(), action, true);
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const failed = running;
    if (failed !== undefined && !(err instanceof CommanderError)) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      await auditCliCommand(getConfig(), failed, false, reason).catch(() => undefined);
    }
    throw err;
  }
}

run(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`hearth: ${message.split('\n')[0] ?? ''}\n`);
  process.exitCode = err instanceof CliError ? err.exitCode : 1;
});
