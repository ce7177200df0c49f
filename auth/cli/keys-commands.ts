import { Command } from 'commander';
import type { Config } from '../../common/config.js';
import { print } from '../../cli/output.js';
import { withAdmin } from './user-commands.js';

/** `hearth keys rotate`. */
export function keysCommands(program: Command, getConfig: () => Config): void {
  const keys = program.command('keys').description('signing and cookie keys');
  keys
    .command('rotate')
    .description(
      'put a new signing key in use; the old one stays published until its tokens expire',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const { kid } = await withAdmin(getConfig, async (a) => {
        await a.keys.ensure();
        return a.keys.rotate();
      });
      print(cmd, { kid }, `new signing key ${kid} in use`);
    });
}
