import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, type StartedChild } from '../../common/child-process.js';
import { freePort } from '../../common/free-port.js';
import { createLogger } from '../../common/logger.js';

/**
 * Starts the whole of Hearth as `npm start` would (the composition root in its own process, the
 * store as its child) on a free loopback port with a fresh DATA_DIR, for end-to-end tests.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunningHearth {
  /** PUBLIC_URL, e.g. `http://127.0.0.1:41234`. */
  baseUrl: string;
  /** `baseUrl + '/fhir'`. */
  fhirBase: string;
  dataDir: string;
  env: Record<string, string>;
  /** The main process (`main.ts`; the cluster primary under WORKERS > 1). */
  process: ChildProcess;
  /** Runs `hearth <args>` against this instance's DATA_DIR. */
  cli(args: string[], input?: string): Promise<CliResult>;
  stop(): Promise<void>;
}

/** The CLI from the TypeScript sources (under tsx), or from a built entry such as `bin/hearth.js`. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  input?: string,
  entry?: string,
): Promise<CliResult> {
  const command =
    entry === undefined ? ['--import', 'tsx', path.join(root, 'cli/main.ts')] : [entry];
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...command, ...args],
      { cwd: root, env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

export async function startHearth(
  opts: {
    env?: Record<string, string>;
    args?: string[];
    nodeArgs?: string[];
    /** The built files to run instead of the sources, e.g. `dist/main.js` and `bin/hearth.js`. */
    built?: { main: string; cli: string };
  } = {},
): Promise<RunningHearth> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hearth-e2e-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: baseUrl,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    SQLITE_SYNC: 'normal',
    ...opts.env,
  };
  const log = createLogger('warn', 'test');
  let started: StartedChild;
  try {
    started = await startChild(
      opts.built?.main ?? path.join(root, 'main.ts'),
      { ...process.env, ...env },
      log,
      90_000,
      opts.args ?? [],
      opts.nodeArgs ?? [],
    );
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    baseUrl,
    fhirBase: `${baseUrl}/fhir`,
    dataDir,
    env,
    process: started.child,
    cli: (args, input) => runCli(args, env, input, opts.built?.cli),
    async stop() {
      await started.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
