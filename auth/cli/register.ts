import type { Command } from 'commander';
import type { Config } from '../../common/config.js';

/**
 * Registers `hearth user …`, `hearth client …` and `hearth keys rotate` (../shared/CONTRACT.md).
 */
export function registerAuthCommands(_program: Command, _getConfig: () => Config): void {
  // implemented on branch auth
}
