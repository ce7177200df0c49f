import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../common/config.js';
import { siblingEntry, startChild, type StartedChild } from '../common/child-process.js';
import { heapArgs } from '../common/heap-limit.js';
import type { Logger } from '../common/logger.js';

/**
 * The store's socket: `store.sock`, or `store-<name>.sock` for one of several store processes
 * (WORKERS > 1: one per worker process, named after it, so no two processes — nor a worker and its
 * restarted successor — ever share a path). Unix socket paths are limited to ~107 bytes; a long
 * DATA_DIR gets a socket in the temp dir.
 */
export function storeSocketPath(dataDir: string, name?: string): string {
  const file = name === undefined ? 'store.sock' : `store-${name}.sock`;
  const inDataDir = path.join(dataDir, file);
  if (Buffer.byteLength(inDataDir) <= 100) return inDataDir;
  const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  return path.join(os.tmpdir(), `hearth-${hash}-${file}`);
}

/**
 * Starts the built-in store as its own process (better-sqlite3 is synchronous: a slow query must
 * never stall sign-in or other requests), listening on an internal Unix socket. Its V8 heap is
 * bounded by MAX_BODY_BYTES (common/heap-limit.ts).
 */
export function startStoreProcess(
  config: Config,
  internalSecret: string,
  log: Logger,
  env: NodeJS.ProcessEnv,
  socketName?: string,
): Promise<StartedChild> {
  const socket = storeSocketPath(config.dataDir, socketName);
  return startChild(
    siblingEntry(import.meta.url, '../store/main'),
    {
      // Two malloc arenas instead of glibc's 8 per core: ~15 MiB less resident, same CPU (bench).
      MALLOC_ARENA_MAX: '2',
      ...env,
      DATA_DIR: config.dataDir,
      STORE_URL: config.storeUrl,
      HEARTH_STORE_SOCKET: socket,
      HEARTH_INTERNAL_SECRET: internalSecret,
      HEARTH_FHIR_BASE_URL: config.fhirBaseUrl,
    },
    log,
    60_000,
    [],
    heapArgs(config.maxBodyBytes),
  );
}

/** The store process, starting, and the secret it was given (see StartOptions.store). */
export interface StartingStore {
  starting: Promise<StartedChild>;
  internalSecret: string;
}

/** Starts the built-in store process for this process (or worker); see {@link StartOptions.store}. */
export function startStoreEarly(
  config: Config,
  log: Logger,
  env: NodeJS.ProcessEnv,
  worker?: { name: string },
): StartingStore {
  const internalSecret = randomBytes(32).toString('base64url');
  const starting = startStoreProcess(config, internalSecret, log, env, worker?.name);
  // Awaited once the rest is built; until then a failure must not count as unhandled.
  starting.catch(() => undefined);
  return { starting, internalSecret };
}
