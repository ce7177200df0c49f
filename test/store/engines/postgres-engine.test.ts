import assert from 'node:assert/strict';
import { QueryTimeoutError, type StatementBatch, type Tx } from '../../../store/engines/engine.js';
import { budgetStep } from '../../../store/engines/postgres/postgres-engine.js';
import {
  TransactionAbortedError,
  type PostgresEngine,
} from '../../../store/engines/postgres/index.js';
import { deferred, postgresEngines } from '../../support/postgres-engines.js';

describe('postgres engine', function () {
  this.timeout(20_000);
  const fx = postgresEngines();
  const open = fx.open;
  let engine: PostgresEngine;
  beforeEach(() => {
    engine = fx.engine;
  });

  it('binds ? placeholders but leaves a ? inside literals, identifiers and comments alone', async () => {
    const row = await engine.get<Record<string, unknown>>(
      `SELECT 'it''s ?' AS a, E'\\'?' AS b, $$?$$ AS c, CAST(? AS TEXT) AS "d?" -- ?
       , CAST(? AS BIGINT) AS e`,
      ['x', 5],
    );
    assert.deepEqual(row, { a: "it's ?", b: "'?", c: '?', 'd?': 'x', e: 5 });
  });

  it('returns bigint results as numbers when safe and as bigint beyond 2^53', async () => {
    await engine.run('INSERT INTO item (k, v) VALUES (?, ?), (?, ?)', ['a', 2, 'b', 3]);
    const row = await engine.get<Record<string, unknown>>(
      'SELECT count(*) AS n, sum(v) AS s, 9007199254740993::bigint AS big, 1.25::numeric AS dec FROM item',
    );
    assert.deepEqual(row, { n: 2, s: 5, big: 9007199254740993n, dec: 1.25 });
  });

  it('creates its tables in its own schema and records migrations there', async () => {
    // Other test runs on this database have `item` tables in their own schemas: none may be shared.
    const rows = await engine.all<{ schema: string }>(
      "SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'item' AND table_schema NOT LIKE 'hearth\\_test\\_%'",
    );
    assert.deepEqual(rows, [], 'no item table outside the test schemas (e.g. in public)');
    const own = await engine.all<{ schema: string }>(
      "SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'item' AND table_schema = current_schema()",
    );
    assert.deepEqual(own, [{ schema: fx.schema }]);
    const applied = await engine.get<{ n: number }>('SELECT count(*) AS n FROM hearth_migration');
    assert.equal(applied?.n, 1);
  });

  it('applies the same migrations from two engines starting at once exactly once', async () => {
    const ddl = ['CREATE TABLE once (x INTEGER)', 'INSERT INTO once VALUES (1)'];
    await Promise.all([engine.migrate(ddl), open().migrate(ddl)]);
    assert.equal((await engine.all('SELECT x FROM once')).length, 1);
  });

  it('runs cached SQL as named prepared statements on the connection', async () => {
    const names = await engine.transaction(async (tx) => {
      await tx.get('SELECT v FROM item WHERE k = ?', ['a']);
      return tx.all<{ name: string; statement: string }>(
        'SELECT name, statement FROM pg_prepared_statements',
      );
    });
    const hit = names.find((n) => n.statement === 'SELECT v FROM item WHERE k = $1');
    assert.match(hit?.name ?? '', /^hearth_\d+$/);
  });

  it('plans a planEach query with its own values: never a named prepared statement', async () => {
    await engine.run('INSERT INTO item (k, v) VALUES (?, ?), (?, ?)', ['a', 2, 'b', 3]);
    const sql = 'SELECT k FROM item WHERE v >= ? ORDER BY k';
    const { rows, names } = await engine.transaction(async (tx) => {
      const a = await tx.all<{ k: string }>(sql, [3], { planEach: true });
      const b = await tx.all<{ k: string }>(sql, [0], { planEach: true });
      const prepared = await tx.all<{ statement: string }>(
        'SELECT statement FROM pg_prepared_statements',
      );
      return { rows: [a, b], names: prepared.map((p) => p.statement) };
    });
    assert.deepEqual(rows, [[{ k: 'b' }], [{ k: 'a' }, { k: 'b' }]]);
    assert.ok(!names.includes('SELECT k FROM item WHERE v >= $1 ORDER BY k'));
    const outside = await engine.all<{ k: string }>(sql, [3], {
      planEach: true,
      deadline: Date.now() + 5000,
    });
    assert.deepEqual(outside, [{ k: 'b' }]);
  });

  it('refuses lastInsertRowid and answers INSERT … RETURNING', async () => {
    const result = await engine.run('INSERT INTO item (k, v) VALUES (?, ?)', ['r', 1]);
    assert.equal(result.changes, 1);
    assert.throws(() => result.lastInsertRowid, /RETURNING/);
    const row = await engine.transaction((tx) =>
      tx.get<{ k: string }>('INSERT INTO item (k, v) VALUES (?, ?) RETURNING k', ['s', 1]),
    );
    assert.equal(row?.k, 's');
  });

  it('stops a slow query outside a transaction at its deadline with QueryTimeoutError', async () => {
    const started = Date.now();
    await assert.rejects(
      engine.get('SELECT pg_sleep(5)', [], { deadline: Date.now() + 100 }),
      QueryTimeoutError,
    );
    assert.ok(Date.now() - started < 2000);
  });

  it('gives each read outside a transaction its own budget, never an earlier read’s', async () => {
    const one = open({ poolSize: 1 });
    await one.get('SELECT 1', [], { deadline: Date.now() + 60_000 });
    const started = Date.now();
    await assert.rejects(
      one.get('SELECT pg_sleep(5)', [], { deadline: Date.now() + 150 }),
      QueryTimeoutError,
    );
    assert.ok(Date.now() - started < 2000);
    // the short budget does not stay with the connection: a later read with a longer one finishes
    assert.deepEqual(
      await one.get('SELECT 1 AS ok FROM pg_sleep(0.3)', [], { deadline: Date.now() + 60_000 }),
      { ok: 1 },
    );
    // nor does it reach transactions or reads without a deadline
    await one.transaction((tx) => tx.get('SELECT pg_sleep(0.3)'));
    await one.get('SELECT pg_sleep(0.3)');
  });

  it('rounds a budget down to a step that a full budget and one a few ms later share', () => {
    assert.equal(budgetStep(10_000), 9_750);
    assert.equal(budgetStep(9_999), 9_750);
    assert.equal(budgetStep(9_750), 9_500);
    assert.equal(budgetStep(999), 999);
    for (let left = 1; left <= 20_000; left += 7) {
      const step = budgetStep(left);
      assert.ok(step <= left && left - step <= 250, `${left} → ${step}`);
    }
  });

  it('rejects a query whose deadline has already passed without running it', async () => {
    await assert.rejects(
      engine.all('SELECT 1', [], { deadline: Date.now() - 1 }),
      QueryTimeoutError,
    );
  });

  it('limits only the query given a deadline inside a transaction, not the next one', async () => {
    await engine.transaction(async (tx) => {
      await tx.get('SELECT 1', [], { deadline: Date.now() + 50 });
      await tx.get('SELECT pg_sleep(0.2)');
    });
    await assert.rejects(
      engine.transaction((tx) => tx.get('SELECT pg_sleep(5)', [], { deadline: Date.now() + 100 })),
      QueryTimeoutError,
    );
  });

  it('rejects COMMIT of a transaction in which a failed statement was swallowed', async () => {
    await engine.run('INSERT INTO item (k, v) VALUES (?, ?)', ['dup', 1]);
    await assert.rejects(
      engine.transaction(async (tx) => {
        await tx.run('INSERT INTO item (k, v) VALUES (?, ?)', ['dup', 2]).catch(() => undefined);
      }),
      TransactionAbortedError,
    );
  });

  it('runs a transaction again after a serialization failure and keeps both writers serial', async () => {
    // Write skew: each reads the total, then inserts a row carrying it. Run serially, one of the
    // two rows must see the other; SERIALIZABLE aborts one attempt, the engine runs it again.
    const bothRead = { a: deferred(), b: deferred() };
    const committed = { a: deferred(), b: deferred() };
    const attempts = { a: 0, b: 0 };
    let calls = 0;
    const writer = (me: 'a' | 'b', other: 'a' | 'b') => async (tx: Tx) => {
      calls += 1;
      attempts[me] += 1;
      // The attempt run again starts once the other writer has committed: started at once, on a
      // loaded machine it could read before the other's COMMIT and be aborted a second time.
      if (attempts[me] > 1) await committed[other].promise;
      const row = await tx.get<{ s: number }>('SELECT coalesce(sum(v), 0) AS s FROM item');
      bothRead[me].resolve();
      await bothRead[other].promise;
      await tx.run('INSERT INTO item (k, v) VALUES (?, ?)', [me, 1 + (row?.s ?? 0)]);
    };
    const run = (me: 'a' | 'b', other: 'a' | 'b') =>
      engine.transaction(writer(me, other)).then(() => {
        committed[me].resolve();
      });
    await Promise.all([run('a', 'b'), run('b', 'a')]);
    const values = (await engine.all<{ v: number }>('SELECT v FROM item ORDER BY v')).map(
      (r) => r.v,
    );
    assert.deepEqual(values, [1, 2]);
    assert.equal(calls, 3);
    assert.equal(engine.stats().retries, 1);
  });

  it('runs a transaction again after a deadlock', async () => {
    await engine.run("INSERT INTO item (k, v) VALUES ('x', 0), ('y', 0)");
    const locked = { x: deferred(), y: deferred() };
    const bump = (first: 'x' | 'y', second: 'x' | 'y') => async (tx: Tx) => {
      await tx.run('UPDATE item SET v = v + 1 WHERE k = ?', [first]);
      locked[first].resolve();
      await locked[second].promise;
      await tx.run('UPDATE item SET v = v + 1 WHERE k = ?', [second]);
    };
    const rc = open({ isolation: 'read committed' });
    await Promise.all([rc.transaction(bump('x', 'y')), rc.transaction(bump('y', 'x'))]);
    const rows = await engine.all<{ v: number }>('SELECT v FROM item ORDER BY k');
    assert.deepEqual(
      rows.map((r) => r.v),
      [2, 2],
    );
    assert.equal(rc.stats().retries, 1);
  });

  it('runs a transaction that starts with lockKey READ COMMITTED and any other SERIALIZABLE (auto)', async () => {
    const level = 'SELECT current_setting(?) AS level';
    const locked = await engine.transaction(async (tx) => {
      await tx.lockKey('Patient/1');
      return tx.get<{ level: string }>(level, ['transaction_isolation']);
    });
    const plain = await engine.transaction((tx) =>
      tx.get<{ level: string }>(level, ['transaction_isolation']),
    );
    assert.deepEqual([locked?.level, plain?.level], ['read committed', 'serializable']);
    const forced = open({ isolation: 'serializable' });
    const strict = await forced.transaction(async (tx) => {
      await tx.lockKey('Patient/1');
      return tx.get<{ level: string }>(level, ['transaction_isolation']);
    });
    assert.equal(strict?.level, 'serializable');
  });

  describe('enlist: items written together in one statement', () => {
    /** Inserts `[k, v]` items into `item`, recording how many each statement carried. */
    const itemBatch = (max: number): StatementBatch<[string, number]> & { sizes: number[] } => {
      const sizes: number[] = [];
      return {
        max,
        sizes,
        statement(items) {
          sizes.push(items.length);
          return {
            sql: 'INSERT INTO item (k, v) SELECT * FROM unnest(?::text[], ?::bigint[])',
            params: [items.map(([k]) => k), items.map(([, v]) => v)],
          };
        },
      };
    };
    const enlist = (
      tx: Tx,
      batch: StatementBatch<[string, number]>,
      item: [string, number],
      now = false,
    ) => {
      assert.ok(tx.enlist !== undefined, 'the PostgreSQL engine batches');
      return tx.enlist(batch, item, now);
    };
    const count = async (prefix: string) =>
      Number(
        (
          await engine.get<{ n: number }>('SELECT count(*) AS n FROM item WHERE k LIKE ?', [
            `${prefix}%`,
          ])
        )?.n,
      );

    it('sends what was enlisted before the transaction runs anything else, in one statement', async () => {
      const batch = itemBatch(100);
      await engine.transaction(async (tx) => {
        const sent = ['en-a', 'en-b', 'en-c'].map((k, i) => enlist(tx, batch, [k, i]));
        const row = await tx.get<{ n: number }>(
          "SELECT count(*) AS n FROM item WHERE k LIKE 'en-%'",
        );
        assert.equal(Number(row?.n), 3, 'the read saw the three inserts');
        await Promise.all(sent);
      });
      assert.deepEqual(batch.sizes, [3]);
      assert.equal(await count('en-'), 3);
    });

    it('sends at the end of the turn, once max items wait, at once when asked, and at commit', async () => {
      const batch = itemBatch(2);
      await engine.transaction(async (tx) => {
        await enlist(tx, batch, ['et-alone', 1]); // nothing else runs: the end of the turn sends it
        // max reached: sent without waiting for the turn, so et-3 starts another statement
        const full = [enlist(tx, batch, ['et-1', 1]), enlist(tx, batch, ['et-2', 2])];
        const third = enlist(tx, batch, ['et-3', 3]);
        const now = enlist(tx, batch, ['et-now', 4], true); // joins et-3, sent at once
        // so et-last starts another statement; not awaited, the commit sends it
        void enlist(tx, batch, ['et-last', 5]);
        await Promise.all([...full, third, now]);
      });
      assert.deepEqual(batch.sizes, [1, 2, 2, 1]);
      assert.equal(await count('et-'), 6);
    });

    it('rejects every item of a failing statement, and fails the transaction', async () => {
      await engine.run('INSERT INTO item (k, v) VALUES (?, ?)', ['ef-dup', 1]);
      const batch = itemBatch(100);
      const outcomes: string[] = [];
      await assert.rejects(
        engine.transaction(async (tx) => {
          const sent = [enlist(tx, batch, ['ef-new', 1]), enlist(tx, batch, ['ef-dup', 2])];
          const settled = await Promise.allSettled(sent);
          for (const s of settled) outcomes.push(s.status);
          await Promise.all(sent);
        }),
        /duplicate key/,
      );
      assert.deepEqual(outcomes, ['rejected', 'rejected']);
      assert.equal(await count('ef-new'), 0);
    });

    it('rejects what was never sent when the transaction rolls back', async () => {
      const batch = itemBatch(100);
      let unsent: Promise<void> | undefined;
      await assert.rejects(
        engine.transaction((tx) => {
          unsent = enlist(tx, batch, ['er-1', 1]);
          unsent.catch(() => undefined);
          return Promise.reject(new Error('changed my mind'));
        }),
        /changed my mind/,
      );
      assert.ok(unsent !== undefined);
      await assert.rejects(unsent, /not written: the transaction rolled back first/);
      assert.deepEqual(batch.sizes, []);
      assert.equal(await count('er-'), 0);
    });
  });
});
