import type { SearchProvider } from './http/types.js';
import { noIndexing, type Indexer } from './repo/indexer.js';

/**
 * Where search plugs into the store, for the store process (store/main.ts) and the admin CLI alike,
 * so both write through the same indexer. When store/search lands, these return its Indexer and
 * SearchProvider.
 */
export function storeIndexer(): Indexer {
  return noIndexing;
}

export function storeSearch(): SearchProvider | undefined {
  return undefined;
}
