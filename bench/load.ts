import { execFile } from 'node:child_process';
import { siblingEntry } from '../common/child-process.js';

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  method?: string;
  headers?: Record<string, string>;
  paths?: string[];
  body?: string;
  /** Connect to this Unix socket (e.g. the store's) instead of the URL's host and port. */
  socketPath?: string;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** The core the load generator is pinned to (the last one); Hearth's processes are not pinned. */
export const LOAD_CORE = 1;

/** Runs autocannon in its own process, pinned with `taskset` to {@link LOAD_CORE}. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const worker = siblingEntry(import.meta.url, './load-worker');
  const node = [
    ...(worker.endsWith('.ts') ? ['--import', 'tsx'] : []),
    worker,
    JSON.stringify(spec),
  ];
  return new Promise((resolve, reject) => {
    execFile(
      'taskset',
      ['-c', String(LOAD_CORE), process.execPath, ...node],
      { maxBuffer: 16 * 1024 * 1024, timeout: (spec.durationSeconds + 60) * 1000 },
      (err: Error | null, stdout) => {
        if (err !== null) {
          reject(err);
          return;
        }
        resolve(JSON.parse(stdout) as LoadResult);
      },
    );
  });
}
