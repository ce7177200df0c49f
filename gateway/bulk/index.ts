/**
 * Bulk Data Access (IG v2) `$export` and Azure-style `$import`: asynchronous, resumable jobs run by
 * the gateway against the built-in store's trusted bulk endpoints. The gateway and CLI entry.
 */
import type { Config } from '../../common/config.js';
import type { Logger } from '../../common/logger.js';
import type { Principal } from '../auth/principal.js';
import type { Grant } from '../authz/grant.js';
import type { RoleSet } from '../authz/roles.js';
import type { GatewayMiddleware } from '../state.js';
import { lazyBucket } from './bucket.js';
import { JobStore } from './job-store.js';
import { BulkJobs } from './jobs.js';
import { bulkRoutes } from './routes.js';
import type { BulkSource } from './source.js';

export { socketSource, type BulkSource, type SocketSourceOptions } from './source.js';
export { runExport, partName } from './export-runner.js';
export { registerBulkCommands } from './cli.js';

export interface BulkDataOptions {
  config: Config;
  log: Logger;
  roles: RoleSet;
  grantsOf: (p: Principal) => readonly Grant[];
  source: BulkSource;
}

export interface BulkData {
  /** The gateway step answering the bulk endpoints (after authentication). */
  middleware: GatewayMiddleware;
  close(): Promise<void>;
}

/** Starts the job runner (resuming unfinished jobs) and returns the gateway step. */
export function createBulkData(o: BulkDataOptions): BulkData {
  const store = new JobStore(o.config.dataDir);
  const bucket = o.config.exportS3 === undefined ? undefined : lazyBucket(o.config.exportS3);
  const jobs = new BulkJobs({
    store,
    source: o.source,
    log: o.log,
    bucket,
    maxRunning: o.config.bulkMaxJobs,
    maxPerClient: o.config.bulkMaxJobsPerClient,
    maxPerFile: o.config.exportFileMaxResources,
    maxRate: o.config.exportMaxRate,
    maxBatchBytes: Math.min(4 * 1024 * 1024, o.config.maxBodyBytes),
    expiryMs: o.config.exportExpiryHours * 3_600_000,
  });
  const started = jobs.start().catch((err: unknown) => {
    o.log.error({ err }, 'bulk jobs could not be resumed');
  });
  const middleware = bulkRoutes({
    fhirBase: o.config.fhirBaseUrl,
    roles: o.roles,
    grantsOf: o.grantsOf,
    jobs,
    store,
    source: o.source,
    importDir: o.config.importDir,
    bucket,
    maxBodyBytes: o.config.maxBodyBytes,
  });
  return {
    middleware,
    async close() {
      await started;
      await jobs.close();
    },
  };
}
