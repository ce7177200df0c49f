import assert from 'node:assert/strict';
import { importLines } from '../../store/bulk/import-lines.js';
import type { Tx } from '../../store/engines/engine.js';
import { searchIndexer } from '../../store/search/index.js';
import { describeOnEngines } from '../support/engines.js';
import { testStore, withSearch, type TestStore } from './helpers.js';

/**
 * `$import` writes a chunk of lines in one transaction (their inserts sharing statements on
 * PostgreSQL); a line the write refuses sends its chunk back to one transaction per line, so it
 * alone fails.
 */
describeOnEngines('store: $import lines written a chunk per transaction', function (engine) {
  this.timeout(30_000);
  let t: TestStore;
  before(async () => {
    t = await testStore({}, withSearch(), engine);
  });
  after(async () => {
    await t.close();
  });
  const load = (lines: string[], mode: 'InitialLoad' | 'IncrementalLoad') =>
    importLines(t.store.context, searchIndexer, lines.join('\n'), mode);
  const transactions = (): number | undefined =>
    (t.engine as { stats?: () => { transactions: number } }).stats?.().transactions;

  it('writes many lines in few transactions, in file order, each indexed', async () => {
    const lines = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify({
        resourceType: 'Patient',
        id: `ic-${i % 50}`,
        name: [{ family: i < 50 ? `Chunked${i}` : `Again${i - 50}` }],
      }),
    );
    const before = transactions();
    const results = await load(lines, 'InitialLoad');
    assert.deepEqual(
      results.map((r) => r.outcome),
      lines.map((_, i) => (i < 50 ? 'created' : 'updated')),
    );
    if (before !== undefined)
      assert.ok(
        (transactions() ?? 0) - before <= 3,
        `${(transactions() ?? 0) - before} transactions`,
      );
    // lines 50..59 updated ic-0..ic-9 after their creation (same or later chunk)
    const again = (await t.api.get('/Patient?family:exact=Again3')).body as {
      entry: { resource: { id: string; meta: { versionId: string } } }[];
    };
    assert.deepEqual(
      again.entry.map((e) => [e.resource.id, e.resource.meta.versionId]),
      [['ic-3', '2']],
    );
    const first = await t.api.get('/Patient?family:exact=Chunked42');
    assert.equal(first.body.entry[0].resource.id, 'ic-42');
    const gone = await t.api.get('/Patient?family:exact=Chunked3');
    assert.equal(gone.body.total, 0, 'ic-3 was replaced');
  });

  it('writes a resource twice in one chunk: the later line updates what the earlier created', async () => {
    const patient = (family: string) =>
      JSON.stringify({ resourceType: 'Patient', id: 'ic-twice', name: [{ family }] });
    // count the store's transactions on both engines: one means the chunk's own transaction
    // wrote all three lines (no retry line by line)
    const engine = t.store.context.engine;
    const transaction = engine.transaction.bind(engine);
    let transactions = 0;
    engine.transaction = <T>(fn: (tx: Tx) => Promise<T>) => {
      transactions++;
      return transaction(fn);
    };
    const results = await load(
      [patient('TwiceFirst'), patient('TwiceSecond'), patient('TwiceThird')],
      'InitialLoad',
    ).finally(() => {
      engine.transaction = transaction;
    });
    assert.equal(transactions, 1);
    assert.deepEqual(
      results.map((r) => r.outcome),
      ['created', 'updated', 'updated'],
    );
    const read = await t.api.get('/Patient/ic-twice');
    assert.equal(read.body.meta.versionId, '3');
    assert.equal(read.body.name[0].family, 'TwiceThird');
    const history = await t.api.get('/Patient/ic-twice/_history');
    assert.equal(history.body.entry.length, 3);
    const stale = await t.api.get('/Patient?family:exact=TwiceFirst');
    assert.equal(stale.body.total, 0, 'the index holds the last version only');
    const found = await t.api.get('/Patient?family:exact=TwiceThird');
    assert.equal(found.body.total, 1);
  });

  it('fails only the line the write refuses, and writes the rest of its chunk', async () => {
    const versioned = (id: string, v: number, birthDate: string) =>
      JSON.stringify({
        resourceType: 'Patient',
        id,
        meta: { versionId: String(v), lastUpdated: '2021-01-01T00:00:00.000Z' },
        birthDate,
      });
    await load([versioned('ir-clash', 1, '1970-01-01')], 'IncrementalLoad');
    const lines = Array.from({ length: 10 }, (_, i) =>
      i === 4 ? versioned('ir-clash', 1, '1980-01-01') : versioned(`ir-${i}`, 3, '1990-01-01'),
    );
    const results = await load(lines, 'IncrementalLoad');
    assert.deepEqual(
      results.map((r) => r.outcome),
      lines.map((_, i) => (i === 4 ? 'error' : 'created')),
    );
    assert.match(JSON.stringify(results[4]?.issues), /already exists with other content/);
    for (const i of [0, 3, 5, 9]) {
      const read = await t.api.get(`/Patient/ir-${i}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.meta.versionId, '3');
    }
    assert.equal((await t.api.get('/Patient/ir-clash')).body.birthDate, '1970-01-01');
  });
});
