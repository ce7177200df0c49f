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

/**
 * Runs `writers` concurrent PUT loops against a store process (each over `idsPerWriter` ids), kills
 * it with SIGKILL once `atLeast` writes were acknowledged, and returns every acknowledged id with
 * the version its ETag named.
 */
export async function writeUntilKilled(
  child: StartedChild,
  opts: { writers: number; idsPerWriter: number; atLeast: number },
): Promise<Map<string, number>> {
  const base = child.ready.address ?? '';
  const acked = new Map<string, number>();
  let stop = false;
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; !stop && i < 2000; i++) {
      const id = `w${w}-${i % opts.idsPerWriter}`;
      try {
        const res = await fetch(`${base}/Patient/${id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
          body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family: `v${i}` }] }),
        });
        if (res.status === 200 || res.status === 201) {
          acked.set(id, Number((res.headers.get('etag') ?? '').replace(/\D/g, '')));
        }
      } catch {
        // the process was killed mid-request; later requests fail the same way until `stop`
      }
    }
  };
  const running = Array.from({ length: opts.writers }, (_, w) => writer(w));
  for (let waited = 0; acked.size < opts.atLeast && waited < 20_000; waited += 20) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await stopProcess(child, 'SIGKILL');
  stop = true;
  await Promise.all(running);
  return acked;
}
