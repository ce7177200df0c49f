import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startChild, type StartedChild } from '../../common/child-process.js';
import { createLogger } from '../../common/logger.js';

export const STORE_MAIN = fileURLToPath(new URL('../../store/main.ts', import.meta.url));

/** Starts the real store process (store/main.ts under tsx) on DATA_DIR `dir`. */
export function startStore(dir: string, env: Record<string, string> = {}): Promise<StartedChild> {
  return startChild(
    STORE_MAIN,
    {
      ...process.env,
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      HEARTH_STORE_PORT: '0',
      STORE_URL: '',
      ...env,
    },
    createLogger('silent', 'test'),
  );
}

/** Sends `signal` and resolves with the exit code once the process has exited. */
export function stopProcess(
  started: StartedChild,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  const { child } = started;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      resolve(code);
    });
    child.kill(signal);
  });
}

/** GET over a Unix socket. */
export function getOverSocket(
  socketPath: string,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    })
      .on('error', reject)
      .end();
  });
}
