import { chmodSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { onShutdown } from '../common/shutdown.js';
import { createStore } from './create-store.js';
import { openEngine } from './engines/index.js';
import { parseStoreProcessEnv } from './process-env.js';
import { storeIndexer, storeSearch } from './wiring.js';

/**
 * The store process: opens the engine on DATA_DIR / STORE_URL, serves FHIR on a Unix socket
 * (HEARTH_STORE_SOCKET) or a loopback port (HEARTH_STORE_PORT), reports `{ready, address}` to its
 * parent, and on SIGTERM finishes in-flight requests and closes the database.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const wiring = parseStoreProcessEnv(process.env);
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
  onShutdown(log, [server], [() => engine.close()]);
  // Started by the composition root: stop with it, even if it died without stopping us.
  process.once('disconnect', () => {
    log.warn('parent process went away; stopping');
    process.kill(process.pid, 'SIGTERM');
  });
  log.info({ address }, 'store listening');
  if (process.send !== undefined) {
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
  // The validator loads after the first requests are answered (a write arriving earlier loads it).
  setTimeout(() => {
    store.warmUp().catch((err: unknown) => {
      log.error({ err }, 'could not load the validator');
    });
  }, 200).unref();
}

main().catch((err: unknown) => {
  process.stderr.write(`store: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
