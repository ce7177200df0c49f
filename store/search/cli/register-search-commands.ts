import type { Command } from 'commander';
import type { Config } from '../../../common/config.js';
import { openEngine as openConfigured, type Engine } from '../../engines/index.js';
import { storeSchema } from '../../repo/schema.js';
import { reindexAll } from '../maintenance.js';
import { searchSchema } from '../schema.js';

export type OpenEngine = (config: Config) => Promise<Engine>;

/** Opens the configured store (STORE_URL) with the store's and search's schema applied. */
export async function openSearchEngine(config: Config): Promise<Engine> {
  const engine = openConfigured(config);
  await engine.migrate([...storeSchema(engine.dialect), ...searchSchema(engine.dialect)]);
  return engine;
}

/**
 * Registers `hearth reindex` (rebuilds every search index row; prints `{"resources":n}`). It
 * works while the server runs: batches are separate transactions and the server picks up the
 * new search generation (custom SearchParameters) on its next query.
 */
export function registerSearchCommands(
  program: Command,
  getConfig: () => Config,
  openEngine: OpenEngine = openSearchEngine,
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
