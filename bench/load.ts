import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { siblingEntry } from '../common/child-process.js';

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  method?: string;
  headers?: Record<string, string>;
  /** Paths cycled through in order (e.g. random ids); absent: `url` itself. */
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
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const worker = siblingEntry(import.meta.url, './load-worker');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-load-'));
  const specFile = path.join(dir, 'spec.json');
  await writeFile(specFile, JSON.stringify(spec));
  const node = [...(worker.endsWith('.ts') ? ['--import', 'tsx'] : []), worker, specFile];
  try {
    return await runWorker(node, spec);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runWorker(node: string[], spec: LoadSpec): Promise<LoadResult> {
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
