import type { ReadyMessage } from '../common/child-process.js';
import type { Config } from '../common/config.js';
import type { StoreProcessEnv } from './process-env.js';

/** What the store thread (store/main.ts run by app/start-store.ts) and its parent say. */

/**
 * The thread's `workerData`: the configuration the parent parsed and validated, and the store's
 * wiring, so the thread neither parses the environment again nor loads the schema library.
 */
export interface StoreThreadData {
  config: Config;
  wiring: StoreProcessEnv;
}

export function isStoreThreadData(data: unknown): data is StoreThreadData {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as Record<string, unknown>;
  return typeof d.config === 'object' && d.config !== null && typeof d.wiring === 'object';
}

/** The parent's message asking the store thread to finish in-flight requests and stop. */
export const STORE_STOP = 'stop';

/** The store thread's first message: where it listens, and the V8 heap bound it runs with. */
export interface StoreReady extends ReadyMessage {
  address: string;
  /** `v8.getHeapStatistics().heap_size_limit` of the thread's isolate. */
  heapLimitBytes: number;
}

/** The store thread's message instead of {@link StoreReady} when it cannot start. */
export interface StoreFailed {
  failed: string;
}

export function isStoreFailed(msg: unknown): msg is StoreFailed {
  return typeof msg === 'object' && msg !== null && typeof (msg as StoreFailed).failed === 'string';
}

export function isStoreReady(msg: unknown): msg is StoreReady {
  if (typeof msg !== 'object' || msg === null) return false;
  const m = msg as Partial<StoreReady>;
  return m.ready === true && typeof m.address === 'string' && typeof m.heapLimitBytes === 'number';
}
