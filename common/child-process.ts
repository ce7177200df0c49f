import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from './logger.js';

/**
 * Runs a Hearth process (e.g. the store) as a child of the composition root. Works from compiled
 * JavaScript (`dist/…/main.js`) and from TypeScript sources under tsx (tests), picking the sibling
 * entry file of the same kind. The child reports readiness with `process.send({ ready: true, … })`.
 */

export interface ReadyMessage {
  ready: true;
  /** Where the child listens, e.g. a Unix socket path or `http://127.0.0.1:port`. */
  address?: string;
}

export interface StartedChild {
  child: ChildProcess;
  ready: ReadyMessage;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Resolves `relative` (without extension) against `from` (an `import.meta.url`), keeping .ts/.js. */
export function siblingEntry(from: string, relative: string): string {
  const ext = from.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`${relative}${ext}`, from));
}

/**
 * `HEARTH_CPU_PROF_DIR` (set by `npm run bench -- --profile`, never needed in production): every
 * Hearth process started through here writes a V8 CPU profile (`.cpuprofile`) there when it exits.
 */
export function profilingArgs(env: NodeJS.ProcessEnv): string[] {
  const dir = env.HEARTH_CPU_PROF_DIR;
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

export function startChild(
  entry: string,
  env: NodeJS.ProcessEnv,
  log: Logger,
  startTimeoutMs = 30_000,
  args: readonly string[] = [],
  nodeArgs: readonly string[] = [],
): Promise<StartedChild> {
  const execArgv = [
    ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []),
    ...nodeArgs,
    ...profilingArgs(env),
  ];
  const child = fork(entry, args, {
    env,
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const earlyExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited before it was ready (code ${code}, signal ${signal})`));
    };
    const timer = setTimeout(() => {
      child.off('exit', earlyExit);
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not become ready in ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    child.once('exit', earlyExit);
    child.on('message', (msg: unknown) => {
      if (typeof msg === 'object' && msg !== null && (msg as { ready?: unknown }).ready === true) {
        clearTimeout(timer);
        child.off('exit', earlyExit);
        child.once('exit', (code, signal) => {
          if (code !== 0) log.error({ entry, code, signal }, 'child process exited');
        });
        resolve({ child, ready: msg as ReadyMessage, stop });
      }
    });
  });
}
