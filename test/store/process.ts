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
    // generous: start-up loads the R4 definitions, and CI machines may be busy
    120_000,
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

export interface SocketResponse {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP request over a Unix socket. */
export function overSocket(
  socketPath: string,
  method: string,
  path: string,
  body?: string,
): Promise<SocketResponse> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/fhir+json' };
    const req = request({ socketPath, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
