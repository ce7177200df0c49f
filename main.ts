import cluster from 'node:cluster';
import { mkdir } from 'node:fs/promises';
import { heapTooSmall, relaunchWithHeap } from './app/heap-relaunch.js';
import { startStoreEarly, type StartingStore } from './app/start-store.js';
import { workerRoleFrom } from './app/worker-role.js';
import { ConfigError, loadConfig } from './common/config.js';
import { createLogger } from './common/logger.js';
import { onShutdown } from './common/shutdown.js';

/**
 * The composition root: `npm start` (and `npm run demo`, which passes `--demo [patients]`). Reads the
 * configuration once, starts everything on one port, and stops gracefully on SIGTERM. With
 * WORKERS > 1 this process is the cluster primary (app/cluster-primary.ts) and each worker it forks
 * runs this file again, serving the shared port with its own store thread. Every process runs
 * with a V8 heap bound that follows MAX_BODY_BYTES (common/heap-limit.ts; workers inherit this
 * process's flags; a store thread's old-generation bound is set in app/start-store.ts).
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
  if (cluster.isPrimary && heapTooSmall(config.maxBodyBytes)) {
    process.exitCode = await relaunchWithHeap(config.maxBodyBytes, process.env);
    return;
  }
  if (config.workers > 1 && cluster.isPrimary) {
    const log = createLogger(config.logLevel, 'hearth');
    const { runPrimary } = await import('./app/cluster-primary.js');
    const pool = await runPrimary(config, log, process.env, demoPatients(process.argv.slice(2)));
    log.info(
      { url: config.publicUrl, fhir: config.fhirBaseUrl, workers: pool.pids() },
      'Hearth is listening',
    );
    process.send?.({ ready: true, address: config.publicUrl });
    return;
  }
  const worker = cluster.isWorker ? workerRoleFrom(process.env, process.pid) : undefined;
  const log = createLogger(config.logLevel, worker === undefined ? 'hearth' : 'hearth-worker');
  const env = worker?.env ?? process.env;
  // The store thread starts first, side by side with loading the rest of Hearth (cold start).
  let store: StartingStore | undefined;
  if (config.fhirUpstream === undefined) {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    store = startStoreEarly(config, log, env, worker?.role);
  }
  const { startHearth } = await import('./app/start-hearth.js');
  const running = await startHearth(config, log, env, {
    demoPatients: worker === undefined ? demoPatients(process.argv.slice(2)) : undefined,
    worker: worker?.role,
    store,
  });
  onShutdown(log, [], [() => running.close()]);
  if (worker === undefined) {
    log.info({ url: config.publicUrl, fhir: config.fhirBaseUrl }, 'Hearth is listening');
  }
  process.send?.({ ready: true, address: config.publicUrl });
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
  process.stderr.write(`hearth: ${message}\n`);
  if (!(err instanceof ConfigError) && err instanceof Error)
    process.stderr.write(`${err.stack ?? ''}\n`);
  process.exit(1);
});
