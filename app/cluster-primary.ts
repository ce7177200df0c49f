import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { onShutdown } from '../common/shutdown.js';
import { serveClusterMetrics } from './cluster-metrics.js';
import { prepareDataDir } from './prepare-data-dir.js';
import { WorkerPool } from './worker-pool.js';
import { workerEnv } from './worker-role.js';

/**
 * The primary process of WORKERS > 1: does the one-time initialisation, then runs `config.workers`
 * workers behind the one port (node:cluster) and supervises them until SIGTERM/SIGINT, when it
 * drains them all. Serves nothing itself. Resolves once every worker is ready.
 */
export async function runPrimary(
  config: Config,
  log: Logger,
  env: NodeJS.ProcessEnv,
  demoPatients: number | undefined,
): Promise<WorkerPool> {
  await prepareDataDir(config, log, env, demoPatients);
  const pool = new WorkerPool({
    count: config.workers,
    env: workerEnv,
    log,
  });
  onShutdown(log, [], [() => pool.stop()]);
  serveClusterMetrics(() => pool.live());
  try {
    await pool.start();
  } catch (err) {
    await pool.stop();
    throw err;
  }
  return pool;
}
