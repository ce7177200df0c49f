import type { Command } from 'commander';
import type { Config } from '../../../common/config.js';
import type { Engine } from '../../engines/engine.js';
import { reindexAll } from '../maintenance.js';

export type OpenEngine = (config: Config) => Promise<Engine>;

/**
 * Registers `hearth reindex` (rebuilds every search index row; prints `{"resources":n}`). It
 * works while the server runs: batches are separate transactions and the server picks up the
 * new search generation on its next query. `openEngine` opens the configured store (with its
 * schema migrated).
 */
export function registerSearchCommands(
  program: Command,
  getConfig: () => Config,
  openEngine: OpenEngine,
): void {
  program
    .command('reindex')
    .description('rebuild the search indexes (and activate custom SearchParameters)')
    .action(async () => {
      const engine = await openEngine(getConfig());
      try {
        const result = await reindexAll(engine);
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } finally {
        await engine.close();
      }
    });
}
