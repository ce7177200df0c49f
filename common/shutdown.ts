import type { Server } from 'node:http';
import type { Logger } from './logger.js';

type Closer = () => Promise<void> | void;

/**
 * Stops accepting connections, lets in-flight requests finish (up to `graceMs`, then closes the
 * connections left), then runs the closers in order (databases last), logging their failures.
 */
export async function closeGracefully(
  log: Logger,
  servers: Server[],
  closers: Closer[],
  graceMs = 10_000,
): Promise<void> {
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
}

/** Graceful stop on SIGTERM/SIGINT ({@link closeGracefully}), then exit. */
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
    await closeGracefully(log, servers, closers, graceMs);
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
