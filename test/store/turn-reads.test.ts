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
});
