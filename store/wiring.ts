import type { Config } from '../common/config.js';
import type { SearchProvider } from './http/types.js';
import type { Indexer } from './repo/indexer.js';
import { createSearchProvider, searchIndexer } from './search/index.js';

/**
 * Where search plugs into the store, for the store (store/main.ts) and the admin CLI alike,
 * so both write through the same indexer: every R4 search parameter indexed in the write
 * transaction, and searches, conditional operations and `$everything` answered by store/search.
 */
export function storeIndexer(): Indexer {
  return searchIndexer;
}

export function storeSearch(config: Config): SearchProvider {
  return createSearchProvider(config);
}
