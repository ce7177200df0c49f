import type { Command } from 'commander';
import type { Config } from '../../common/config.js';
import { createLogger } from '../../common/logger.js';
import { CliError, print } from '../../cli/output.js';
import { startProgress } from '../../cli/progress.js';
import { createStore } from '../create-store.js';
import { openEngine } from '../engines/index.js';
import { storeIndexer, storeSearch } from '../wiring.js';
import { importFiles, totalBytes } from './import-files.js';

/**
 * The store's admin commands. `hearth import` opens the engine on DATA_DIR / STORE_URL directly
 * (BEGIN IMMEDIATE with a busy timeout, so it works while the server runs) and writes through the
 * store's own write path.
 */
export function registerStoreCommands(program: Command, getConfig: () => Config): void {
  program
    .command('import')
    .description('load Bundles (transaction, batch or collection) or NDJSON files into the store')
    .argument('<files...>', 'Bundle JSON files, or .ndjson / .jsonl files of resources')
    .action(async (files: string[], _opts: unknown, cmd: Command) => {
      const config = getConfig();
      const log = createLogger('silent', 'import');
      let total: number;
      try {
        total = totalBytes(files);
      } catch (err) {
        throw new CliError(err instanceof Error ? err.message : String(err));
      }
      const engine = openEngine(config);
      const search = storeSearch(config);
      try {
        const store = await createStore({
          // An import file is the operator's own: no per-request entry cap on its Bundles.
          config: { ...config, bundleMaxEntries: Number.MAX_SAFE_INTEGER },
          engine,
          indexer: storeIndexer(),
          log,
          search,
        });
        const bar = startProgress(cmd, total, 'bytes');
        let read = 0;
        const summary = await importFiles(store, files, {
          onBytes: (n) => {
            read += n;
            bar.update(read);
          },
          onError: (where, message) => {
            bar.note(`${where}: ${message}`);
          },
        });
        bar.stop();
        print(
          cmd,
          summary,
          process.stdout.isTTY
            ? `created ${summary.created}, updated ${summary.updated}, failed ${summary.failed}`
            : undefined,
        );
        if (summary.failed > 0) process.exitCode = 1;
      } finally {
        await engine.close();
      }
    });
}
