import { chmodSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../common/config.js';
import { createLogger, type Logger } from '../common/logger.js';
import { closeGracefully, onShutdown } from '../common/shutdown.js';
import { createStore } from './create-store.js';
import { openEngine } from './engines/index.js';
import type { StoreProcessEnv } from './process-env.js';
import {
  isStoreThreadData,
  STORE_STOP,
  type StoreFailed,
  type StoreReady,
} from './thread-protocol.js';
import { storeIndexer, storeSearch } from './wiring.js';

/**
 * The built-in store: opens the engine on DATA_DIR / STORE_URL, serves FHIR on a Unix socket
 * (HEARTH_STORE_SOCKET) or a loopback port (HEARTH_STORE_PORT) and reports `{ready, address}`.
 * Hearth runs it as a worker thread of its own process (app/start-store.ts, which passes the
 * configuration and the wiring as `workerData` instead of the environment): the thread has its
 * own event loop and V8 heap, so a slow synchronous SQLite call never stalls sign-in or the
 * gateway, and it stops on the parent's stop message. Run as a process of its own (tests, or
 * `node dist/store/main.js`), it reports to its parent over IPC and stops on SIGTERM. Either way it
 * finishes in-flight requests and closes the database before it ends.
 */
async function main(): Promise<void> {
  const { config, wiring } = await settings();
  const log = createLogger(config.logLevel, 'store');
  const engine = openEngine(config);
  const search = storeSearch(config);
  const store = await createStore({
    config,
    engine,
    indexer: storeIndexer(),
    log,
    search,
    ...(wiring.fhirBaseUrl === undefined ? {} : { baseUrl: wiring.fhirBaseUrl }),
    ...(wiring.internalSecret === undefined ? {} : { internalSecret: wiring.internalSecret }),
  });
  const server = store.server();
  const address = await new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    if (wiring.socket !== undefined) {
      rmSync(wiring.socket, { force: true });
      const socket = wiring.socket;
      server.listen(socket, () => {
        // Only the operator's account may connect (the socket may sit in a shared temp dir).
        chmodSync(socket, 0o600);
        resolve(socket);
      });
    } else {
      server.listen(wiring.port, '127.0.0.1', () => {
        resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      });
    }
  });
  const closeDatabase = (): Promise<void> => engine.close();
  log.info({ address }, 'store listening');
  if (isMainThread) reportAsProcess(log, server, closeDatabase, address);
  else reportAsThread(log, server, closeDatabase, address);
  // The search definitions next, while the rest of Hearth starts (a request arriving earlier waits
  // for them only if it needs them). The validator loads once the first request has come and no
  // new one has started for a moment: its larger steps (parsing a 2.5 MB definition file,
  // indexing a 35 MB one) would otherwise delay the first answers. A write arriving before then
  // loads what it needs itself.
  setImmediate(() => {
    try {
      store.prepareSearch();
      log.debug('search definitions built');
    } catch (err) {
      log.error({ err }, 'could not build the search definitions');
    }
  });
  whenQuiet(server, WARM_UP_QUIET_MS, () => {
    log.debug('loading the validator');
    store.warmUp().then(
      () => {
        log.debug('validator loaded');
      },
      (err: unknown) => {
        log.error({ err }, 'could not load the validator');
      },
    );
  });
}

/** How long the store waits without a new request before it loads the validator. */
const WARM_UP_QUIET_MS = 250;

/**
 * Runs `task` once `server` has had a request and then no new one for `quietMs` (never while
 * requests keep coming, nor before the first).
 */
function whenQuiet(server: Server, quietMs: number, task: () => void): void {
  let last: number | undefined;
  const seen = (): void => {
    last = performance.now();
  };
  server.on('request', seen);
  const check = (): void => {
    const idle = last === undefined ? 0 : performance.now() - last;
    if (idle < quietMs) {
      setTimeout(check, quietMs - idle).unref();
      return;
    }
    server.off('request', seen);
    task();
  };
  setTimeout(check, quietMs).unref();
}

/**
 * A thread gets the configuration its parent parsed, and its wiring, as `workerData`; a process
 * parses its environment (loading the schema library only then).
 */
async function settings(): Promise<{ config: Config; wiring: StoreProcessEnv }> {
  if (isStoreThreadData(workerData)) {
    return { config: Object.freeze(workerData.config), wiring: workerData.wiring };
  }
  const [{ loadConfig }, { parseStoreProcessEnv }] = await Promise.all([
    import('../common/config.js'),
    import('./process-env.js'),
  ]);
  return { config: loadConfig(), wiring: parseStoreProcessEnv(process.env) };
}

/** A store process: ready over IPC, stops on SIGTERM or when its parent goes away. */
function reportAsProcess(
  log: Logger,
  server: Server,
  close: () => Promise<void>,
  address: string,
): void {
  onShutdown(log, [server], [close]);
  // Started by a parent: stop with it, even if it died without stopping us.
  process.once('disconnect', () => {
    log.warn('parent process went away; stopping');
    process.kill(process.pid, 'SIGTERM');
  });
  if (process.send === undefined) return;
  if (!process.connected) {
    // The parent stopped while this process was starting: nobody will use it.
    log.warn('parent process went away before the store was ready; stopping');
    process.kill(process.pid, 'SIGTERM');
    return;
  }
  process.send({ ready: true, address }, (err: Error | null) => {
    if (err !== null) log.warn({ err }, 'could not report readiness to the parent');
  });
}

/** A store thread: ready (with its heap bound) to the parent thread, stops on its message. */
function reportAsThread(
  log: Logger,
  server: Server,
  close: () => Promise<void>,
  address: string,
): void {
  const port = parentPort;
  if (port === null) throw new Error('a store thread needs its parent port');
  port.on('message', (msg: unknown) => {
    if (msg !== STORE_STOP) return;
    log.info('store thread stopping');
    void closeGracefully(log, [server], [close]).then(() => {
      port.close();
      // Ends this thread only; whatever timers or handles are left cannot keep it alive.
      process.exit(0);
    });
  });
  const ready: StoreReady = {
    ready: true,
    address,
    heapLimitBytes: v8.getHeapStatistics().heap_size_limit,
  };
  port.postMessage(ready);
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  const failed: StoreFailed = { failed: message };
  if (parentPort !== null) parentPort.postMessage(failed);
  else process.stderr.write(`store: ${message}\n`);
  process.exit(1);
});
