import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, type StartedChild } from '../../../common/child-process.js';
import { silentLog } from './temp.js';

const STORE_MAIN = fileURLToPath(new URL('../../../store/main.ts', import.meta.url));

/** Starts the real store process (store/main.ts) on a Unix socket in `dir`. */
export async function startStore(
  dir: string,
  secret: string,
  fhirBaseUrl: string,
): Promise<{ socketPath: string; child: StartedChild }> {
  const socketPath = path.join(dir, 'store.sock');
  const child = await startChild(
    STORE_MAIN,
    {
      ...process.env,
      DATA_DIR: dir,
      SQLITE_SYNC: 'normal',
      LOG_LEVEL: 'silent',
      HEARTH_STORE_SOCKET: socketPath,
      HEARTH_INTERNAL_SECRET: secret,
      HEARTH_FHIR_BASE_URL: fhirBaseUrl,
    },
    silentLog,
    60_000,
  );
  return { socketPath, child };
}
