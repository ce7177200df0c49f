import assert from 'node:assert/strict';
import type { Engine, Queryable } from '../../store/engines/engine.js';
import { noIndexing } from '../../store/repo/indexer.js';
import { Repository } from '../../store/repo/repository.js';
import { testEngines } from '../support/engines.js';
import { testStore, type TestStore } from './helpers.js';

const postgres = testEngines.find((e) => e.name === 'postgres');

describe('store: PostgreSQL reads of one event-loop turn share one query', function () {
  this.timeout(20_000);
  let t: TestStore;
  let pg: Engine;
  let queries: string[];
  let failing: boolean;
  /** The engine, counting the statements it is asked to run. */
  let counted: Queryable;
  const repo = new Repository(noIndexing);

  before(async () => {
    if (postgres === undefined) throw new Error('no PostgreSQL test engine');
    t = await testStore({}, {}, postgres);
    pg = t.engine;
    for (const id of ['p1', 'p2', 'p3'])
      assert.equal(
        (await t.api.put(`/Patient/${id}`).send({ resourceType: 'Patient', id })).status,
        201,
      );
  });
  after(async () => {
    await t.close();
  });
  beforeEach(() => {
    queries = [];
    failing = false;
    const note = (sql: string): void => {
      queries.push(sql);
      if (failing) throw new Error('connection lost');
    };
    counted = {
      dialect: 'postgres',
      all: (sql, params, o) => {
        note(sql);
        return pg.all(sql, params, o);
      },
      get: (sql, params, o) => {
        note(sql);
        return pg.get(sql, params, o);
      },
      run: (sql, params) => {
        note(sql);
        return pg.run(sql, params);
      },
    };
  });

  it('reads several resources asked in one turn with one query, each answered with its row', async () => {
    const rows = await Promise.all(
      ['p1', 'p2', 'nope', 'p1', 'p3'].map((id) => repo.read(counted, 'Patient', id)),
    );
    assert.deepEqual(
      rows.map((r) => r?.id),
      ['p1', 'p2', undefined, 'p1', 'p3'],
    );
    assert.equal(queries.length, 1);
  });

  it("sends the turn's query once the turn's callbacks have run, and a lone read as a plain lookup", async () => {
    const first = repo.read(counted, 'Patient', 'p1');
    assert.equal(queries.length, 0);
    assert.equal((await first)?.id, 'p1');
    assert.equal(queries.length, 1);
    assert.match(queries[0] ?? '', /WHERE type = \? AND id = \?/);
  });

  it('sees a write committed before the reads arrived', async () => {
    assert.equal(
      (await t.api.put('/Patient/p4').send({ resourceType: 'Patient', id: 'p4' })).status,
      201,
    );
    const [p4, p1] = await Promise.all([
      repo.read(counted, 'Patient', 'p4'),
      repo.read(counted, 'Patient', 'p1'),
    ]);
    assert.equal(p4?.id, 'p4');
    assert.equal(p1?.id, 'p1');
  });

  it("rejects every read of the turn when the turn's query fails", async () => {
    failing = true;
    const results = await Promise.allSettled([
      repo.read(counted, 'Patient', 'p1'),
      repo.read(counted, 'Patient', 'p2'),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(queries.length, 1);
  });

  it('reads inside a transaction on its own connection, one query each', async () => {
    await pg.transaction(async (tx) => {
      const txCounted = Object.assign(Object.create(tx) as typeof tx, {
        get: (sql: string, params?: readonly (string | number | null)[]) => {
          queries.push(sql);
          return tx.get(sql, params);
        },
      });
      const rows = await Promise.all([
        repo.read(txCounted, 'Patient', 'p1'),
        repo.read(txCounted, 'Patient', 'p2'),
      ]);
      assert.deepEqual(
        rows.map((r) => r?.id),
        ['p1', 'p2'],
      );
    });
    assert.equal(queries.length, 2);
  });

  it("serves a transaction's rows read ahead until the transaction writes them", async () => {
    type Params = readonly (string | number | null)[];
    await pg
      .transaction(async (tx) => {
        // every statement of the transaction, counted (Object.create keeps lockKey, runMany…)
        const txCounted = Object.assign(Object.create(tx) as typeof tx, {
          get: (sql: string, params?: Params) => {
            queries.push(sql);
            return tx.get(sql, params);
          },
          all: (sql: string, params?: Params) => {
            queries.push(sql);
            return tx.all(sql, params);
          },
          run: (sql: string, params?: Params) => {
            queries.push(sql);
            return tx.run(sql, params);
          },
        });
        await txCounted.lockKeys(['Patient/p1', 'Patient/p2', 'Patient/none']);
        await repo.prefetch(txCounted, ['Patient/p1', 'Patient/p2', 'Patient/none']);
        assert.equal(queries.length, 1, 'one query reads them all');
        queries = [];
        // an update under an access constraint reads its row for the check, then to write it
        const before = await repo.read(txCounted, 'Patient', 'p1');
        assert.equal((await repo.read(txCounted, 'Patient', 'p1'))?.version, before?.version);
        assert.equal(await repo.read(txCounted, 'Patient', 'none'), undefined);
        assert.deepEqual(queries, [], 'read ahead: no round trip');
        const written = await repo.put(
          txCounted,
          'Patient',
          'p1',
          { resourceType: 'Patient', id: 'p1', active: true },
          'PUT',
        );
        assert.equal(written.version, (before?.version ?? 0) + 1);
        assert.ok(
          !queries.some((q) => /WHERE type = \? AND id = \?/.test(q)),
          `the write read its row ahead: ${queries.join(' | ')}`,
        );
        queries = [];
        // after the write, the transaction reads what it wrote, not the row read ahead
        const after = await repo.read(txCounted, 'Patient', 'p1');
        assert.ok(after !== undefined);
        assert.equal(after.version, written.version);
        assert.match(after.json, /"active":true/);
        assert.equal(queries.length, 1);
        assert.equal((await repo.read(txCounted, 'Patient', 'p2'))?.id, 'p2');
        assert.equal(queries.length, 1, 'p2 is still read ahead');
        await repo.remove(txCounted, 'Patient', 'p2');
        queries = [];
        assert.equal((await repo.read(txCounted, 'Patient', 'p2'))?.deleted, 1);
        assert.equal(queries.length, 1, 'a deleted row is read again');
        throw new Error('roll back');
      })
      .catch((err: unknown) => {
        if (!(err instanceof Error) || err.message !== 'roll back') throw err;
      });
  });

  it("sends a transaction's inserts behind when asked, and reads after them see them", async () => {
    await pg
      .transaction(async (tx) => {
        // an insert that carries its index rows (Indexer.inline, here none) is one statement
        const indexing = new Repository({
          ...noIndexing,
          inline: () =>
            Promise.resolve({
              ctes: ['wb AS (SELECT k.rids FROM k, jsonb_array_elements(?::jsonb) AS x)'],
              tables: [[]],
            }),
        });
        indexing.writeBehind(tx);
        let answered = false;
        await indexing.put(tx, 'Patient', 'wb-1', { resourceType: 'Patient', id: 'wb-1' }, 'PUT');
        const [sent] = indexing.writesBehind(tx);
        assert.ok(sent !== undefined, 'the insert went behind');
        void sent.then(() => {
          answered = true;
        });
        assert.equal(answered, false, 'put returned before PostgreSQL answered the insert');
        // queued after the insert on the transaction's connection
        assert.equal((await indexing.read(tx, 'Patient', 'wb-1'))?.version, 1);
        assert.equal(answered, true);
        throw new Error('roll back');
      })
      .catch((err: unknown) => {
        if (!(err instanceof Error) || err.message !== 'roll back') throw err;
      });
    assert.equal(await repo.read(pg, 'Patient', 'wb-1'), undefined);
  });
});
