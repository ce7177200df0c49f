import assert from 'node:assert/strict';
import type { TestEngine } from '../../../support/engines.js';
import { ids } from './run-search.js';
import { TestStore, type Res } from './test-store.js';

/** A fresh store on `engine` holding `fixtures` for the enclosing describe (before/after hooks). */
export function storeWith(engine: TestEngine, fixtures: readonly Res[]): () => TestStore {
  let store: TestStore | undefined;
  before(async () => {
    store = await new TestStore(engine).init();
    for (const r of fixtures) await store.put(r);
  });
  after(() => store?.close() ?? Promise.resolve());
  return () => {
    if (store === undefined) throw new Error('the store is opened in before()');
    return store;
  };
}

/** One `it` per [query, expected ids] row, each searched with strict handling. */
export function itMatches(store: () => TestStore, cases: readonly [string, string[]][]): void {
  for (const [query, expected] of cases) {
    it(`${query} matches [${expected.join(', ')}]`, async () => {
      assert.deepEqual(await ids(store(), query, { strict: true }), expected);
    });
  }
}
