import { startHearth } from './app/start-hearth.js';
import { ConfigError, loadConfig } from './common/config.js';
import { createLogger } from './common/logger.js';
import { onShutdown } from './common/shutdown.js';

/**
 * The composition root: `npm start` (and `npm run demo`, which passes `--demo [patients]`). Reads the
 * configuration once, starts everything on one port, and stops gracefully on SIGTERM.
 */

const DEFAULT_DEMO_PATIENTS = 25;

function demoPatients(argv: readonly string[]): number | undefined {
  const i = argv.indexOf('--demo');
  if (i < 0) return undefined;
  const n = Number(argv[i + 1]);
  return Number.isInteger(n) && n >= 0 ? n : DEFAULT_DEMO_PATIENTS;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'hearth');
  const running = await startHearth(config, log, process.env, {
    demoPatients: demoPatients(process.argv.slice(2)),
  });
  onShutdown(log, [], [() => running.close()]);
  log.info({ url: config.publicUrl, fhir: config.fhirBaseUrl }, 'Hearth is listening');
  process.send?.({ ready: true, address: config.publicUrl });
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
  process.stderr.write(`hearth: ${message}\n`);
  if (!(err instanceof ConfigError) && err instanceof Error)
    process.stderr.write(`${err.stack ?? ''}\n`);
  process.exit(1);
});
