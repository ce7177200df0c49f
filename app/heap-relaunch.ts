import { spawn } from 'node:child_process';
import os from 'node:os';
import v8 from 'node:v8';
import { ConfigError } from '../common/config.js';
import { heapArgs, heapFits, heapLimitMib, isHeapArg } from '../common/heap-limit.js';

/**
 * `npm start` runs `node --max-old-space-size=… --max-semi-space-size=… dist/main.js` with the heap
 * bounds of the default MAX_BODY_BYTES (common/heap-limit.ts). When MAX_BODY_BYTES is set higher than that bound can
 * parse, this process starts Hearth again as its child with the bound that configuration needs and
 * stands in for it: it relays IPC messages both ways, forwards SIGTERM/SIGINT/SIGHUP and exits with
 * the child's code. A default configuration never pays for this.
 */

const RELAUNCHED = 'HEARTH_HEAP_RELAUNCHED';
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** Whether this process's V8 heap is too small for bodies of `maxBodyBytes`. */
export function heapTooSmall(maxBodyBytes: number): boolean {
  return !heapFits(v8.getHeapStatistics().heap_size_limit, maxBodyBytes);
}

/** The node arguments of the relaunched process: these, with the heap flags replaced. */
export function relaunchArgs(
  execArgv: readonly string[],
  argv: readonly string[],
  maxBodyBytes: number,
): string[] {
  return [...execArgv.filter((a) => !isHeapArg(a)), ...heapArgs(maxBodyBytes), ...argv.slice(1)];
}

/** Runs Hearth again with the heap `maxBodyBytes` needs; resolves with its exit code. */
export function relaunchWithHeap(maxBodyBytes: number, env: NodeJS.ProcessEnv): Promise<number> {
  if (env[RELAUNCHED] === '1') {
    const have = Math.floor(v8.getHeapStatistics().heap_size_limit / 1024 / 1024);
    throw new ConfigError(
      `invalid configuration: MAX_BODY_BYTES=${maxBodyBytes} needs a V8 heap of ${heapLimitMib(maxBodyBytes)} MiB and node gave ${have} MiB`,
    );
  }
  const child = spawn(
    process.execPath,
    relaunchArgs(process.execArgv, process.argv, maxBodyBytes),
    {
      env: { ...env, [RELAUNCHED]: '1' },
      stdio: process.send === undefined ? 'inherit' : ['inherit', 'inherit', 'inherit', 'ipc'],
    },
  );
  child.on('message', (msg) => process.send?.(msg));
  process.on('message', (msg) => child.send(msg as object));
  for (const signal of FORWARDED) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      process.channel?.unref();
      resolve(code ?? (signal === null ? 1 : 128 + os.constants.signals[signal]));
    });
  });
}
