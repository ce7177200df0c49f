import type { ReadyMessage } from '../common/child-process.js';

/** What the store thread (store/main.ts run by app/start-store.ts) and its parent say. */

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
