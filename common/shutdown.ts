import type { Server } from 'node:http';
import type { Logger } from './logger.js';

type Closer = () => Promise<void> | void;

/**
 * Graceful stop on SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish
 * (up to `graceMs`), then run the closers (databases last) and exit.
 */
export function onShutdown(
  log: Logger,
  servers: Server[],
  closers: Closer[],
  graceMs = 10_000,
): void {
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.warn('in-flight requests did not finish in time; closing connections');
      for (const s of servers) s.closeAllConnections();
    }, graceMs);
    timer.unref();
    await Promise.all(servers.map((s) => closeServer(s)));
    for (const close of closers) {
      try {
        await close();
      } catch (err) {
        log.error({ err }, 'error while closing');
      }
    }
    clearTimeout(timer);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeIdleConnections();
  });
}
