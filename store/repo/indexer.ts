import type { DialectName, SqlValue, Tx } from '../engines/engine.js';

/**
 * The search-index hook of the write path. The store calls `index` inside the write transaction,
 * right after a resource's current row is written (create, update, patch, import), and `unindex`
 * when it is deleted; so the index never disagrees with a committed resource.
 */
export interface Indexer {
  /** DDL of the index tables, applied with the store's migrations. */
  schema(dialect: DialectName): string[];
  /**
   * `resource` is the plain JSON of the new current version (numbers as numbers). `fresh`: the
   * resource row was inserted by this transaction with a new rid, so it has no index rows yet to
   * replace.
   */
  index(tx: Tx, rid: number, resource: Record<string, unknown>, fresh?: boolean): Promise<void>;
  unindex(tx: Tx, rid: number): Promise<void>;
  /**
   * PostgreSQL, for a resource row about to be inserted with a new rid: the index of `resource` as
   * rows the statement inserting it writes too (`InlineIndex`), so the write and its index take
   * one statement, shared by the inserts of a transaction Bundle; it then stands for the `index`
   * call. Undefined (or no method): the store calls `index` after the write.
   */
  inline?(tx: Tx, resource: Record<string, unknown>): Promise<InlineIndex | undefined>;
}

/**
 * Index rows written by the statement that inserts their resource (see `Indexer.inline`). That
 * statement inserts several resources, numbered from 1 in the CTE `v` (columns `n`, `rid`), and
 * `k` holds their rids in that order (`k.rids`, an array). `ctes[i]` (`name AS (…)`, the same
 * texts for every resource) writes the rows of `tables[i]`, gathered from every resource of the
 * statement: its one `?` is bound to a JSON array of those rows, each prefixed with its resource's
 * number (`[n, …row]`).
 */
export interface InlineIndex {
  ctes: readonly string[];
  tables: readonly (readonly SqlValue[])[][];
}

/**
 * An Indexer that writes nothing: the store without search. Used until search is wired in
 * (store/search), and by tests that do not exercise search.
 */
export const noIndexing: Indexer = {
  schema: () => [],
  index: () => Promise.resolve(),
  unindex: () => Promise.resolve(),
};
