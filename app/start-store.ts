import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../common/config.js';
import { heapLimitMib } from '../common/heap-limit.js';
import type { Logger } from '../common/logger.js';
import { moduleWorker } from '../common/module-worker.js';
import {
  isStoreFailed,
  isStoreReady,
  STORE_STOP,
  type StoreReady,
  type StoreThreadData,
} from '../store/thread-protocol.js';

/**
 * The store's socket: `store.sock`, or `store-<name>.sock` for the store of one of several processes
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

/** The built-in store, running: where it listens, and how to stop it. */
export interface StartedStore {
  ready: StoreReady;
  /** Asks the store to finish in-flight requests and close; terminates it after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The store thread's semi-spaces (MiB; its young generation is twice that): half the process's
 * (common/heap-limit.ts). A read answers with the stored bytes and makes little garbage, but during
 * ingest the young generation filled up to its bound: at 100 patients 4 MiB semi-spaces lowered the
 * ingest peak of resident memory by 5–10 MiB (262–266 against 272–289 MiB), with ingest within the
 * VM's spread (1,271 / 1,147 against 1,181 / 1,235 resources/s). Reads at 600 patients, 32
 * connections, alternated three times: through the gateway 2,909 / 2,704 / 2,339 against 2,672 /
 * 2,153 / 2,878 per second (process CPU 421–564 against 426–612 µs per read), store direct 52–59
 * against 49–107 µs per read.
 */
export const STORE_SEMI_SPACE_MIB = 4;

/**
 * Starts the built-in store (store/main.ts) as a worker thread of this process, listening on an
 * internal Unix socket. better-sqlite3 is synchronous, so the store needs an event loop of its own
 * (a slow query must never stall sign-in or other requests); a thread gives it one, with its own
 * V8 heap bounded by MAX_BODY_BYTES (common/heap-limit.ts), without a second copy of the runtime:
 * as a process of its own the store cost 45–60 MiB more resident memory (node's code mapped
 * again, a second malloc heap). The gateway still reaches it over HTTP on the socket.
 */
export function startStoreThread(
  config: Config,
  internalSecret: string,
  log: Logger,
  env: NodeJS.ProcessEnv,
  socketName?: string,
  startTimeoutMs = 60_000,
): Promise<StartedStore> {
  const socket = storeSocketPath(config.dataDir, socketName);
  const workerData: StoreThreadData = {
    config,
    wiring: { socket, port: 0, internalSecret, fhirBaseUrl: config.fhirBaseUrl },
  };
  const worker = moduleWorker(import.meta.url, '../store/main', {
    env,
    workerData,
    resourceLimits: { maxOldGenerationSizeMb: heapLimitMib(config.maxBodyBytes) },
    semiSpaceMb: STORE_SEMI_SPACE_MIB,
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  let failure: Error | undefined;
  worker.on('error', (err) => {
    failure = err;
    log.error({ err }, 'the store thread failed');
  });
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (worker.threadId < 0) return; // exited already
    worker.postMessage(STORE_STOP);
    const timer = setTimeout(() => void worker.terminate(), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`the store did not become ready in ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    const earlyExit = (code: number): void => {
      clearTimeout(timer);
      const why = failure === undefined ? `code ${code}` : failure.message;
      reject(new Error(`the store stopped before it was ready (${why})`));
    };
    worker.once('exit', earlyExit);
    worker.once('message', (msg: unknown) => {
      clearTimeout(timer);
      worker.off('exit', earlyExit);
      if (!isStoreReady(msg)) {
        void worker.terminate();
        const why = isStoreFailed(msg) ? msg.failed : `unexpected message ${JSON.stringify(msg)}`;
        reject(new Error(`the store could not start: ${why}`));
        return;
      }
      void exited.then((code) => {
        if (code !== 0) log.error({ code }, 'the store thread stopped');
      });
      resolve({ ready: msg, stop });
    });
  });
}

/** The store, starting, and the secret it was given (see StartOptions.store). */
export interface StartingStore {
  starting: Promise<StartedStore>;
  internalSecret: string;
}

/** Starts the built-in store for this process (or cluster worker); see {@link StartOptions.store}. */
export function startStoreEarly(
  config: Config,
  log: Logger,
  env: NodeJS.ProcessEnv,
  worker?: { name: string },
): StartingStore {
  const internalSecret = randomBytes(32).toString('base64url');
  const starting = startStoreThread(config, internalSecret, log, env, worker?.name);
  // Awaited once the rest is built; until then a failure must not count as unhandled.
  starting.catch(() => undefined);
  return { starting, internalSecret };
}
