import type { Command } from 'commander';
import type { Config } from '../../common/config.js';
import { clientCommands } from './client-commands.js';
import { keysCommands } from './keys-commands.js';
import { userCommands } from './user-commands.js';

/**
 * Registers `hearth user …`, `hearth client …` and `hearth keys rotate` (../shared/CONTRACT.md). Each
 * command opens the auth database itself (DATA_DIR/auth.db, or the shared PostgreSQL schema when
 * STORE_URL is postgres://…), so it works while servers run; they read accounts, clients and keys
 * from the database on demand.
 */
export function registerAuthCommands(program: Command, getConfig: () => Config): void {
  userCommands(program, getConfig);
  clientCommands(program, getConfig);
  keysCommands(program, getConfig);
}
