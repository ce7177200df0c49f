import { startHearth } from '../app/start-hearth.js';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { onShutdown } from '../common/shutdown.js';

/**
 * Benchmark-only entry: Hearth exactly as `main.ts` starts it, except that the gateway does not
 * write audit records. Only `npm run bench` starts this file, to measure what audit costs; no
 * configuration setting or environment variable can turn audit off in `npm start`.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'hearth-bench-unaudited');
  log.warn('benchmark entry: audit records are NOT written by this process');
  const running = await startHearth(config, log, process.env, { unauditedForBench: true });
  onShutdown(log, [], [() => running.close()]);
  process.send?.({ ready: true, address: config.publicUrl });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `hearth-bench-unaudited: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
