import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { QueryTimeoutError, type Tx } from '../../../store/engines/engine.js';
import { budgetStep } from '../../../store/engines/postgres/postgres-engine.js';
import {
  openPostgresEngine,
  TransactionAbortedError,
  type PostgresEngine,
  type PostgresEngineOptions,
} from '../../../store/engines/postgres/index.js';
import { freshSchema, type TestSchema } from '../../support/postgres.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  const out = { resolve: () => undefined as unknown, promise: Promise.resolve() };
  out.promise = new Promise<void>((r) => {
    out.resolve = r;
  });
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('postgres engine', function () {
  this.timeout(20_000);
  let target: TestSchema;
  const engines: PostgresEngine[] = [];
  const open = (o: Partial<PostgresEngineOptions> = {}): PostgresEngine => {
    const engine = openPostgresEngine({ url: target.url, ...o });
    engines.push(engine);
    return engine;
  };
  let engine: PostgresEngine;

  beforeEach(async () => {
    target = freshSchema();
    engine = open();
    await engine.migrate(['CREATE TABLE item (k TEXT PRIMARY KEY, v BIGINT NOT NULL)']);
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()));
    await target.drop();
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
    assert.deepEqual(own, [{ schema: target.schema }]);
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

  describe('lockKey across engines (two processes on one database)', () => {
    /** A conditional create: insert `k` only when no row has it. */
    const createIfAbsent = (k: string, lock: boolean) => async (tx: Tx) => {
      if (lock) await tx.lockKey('cond:item');
      const hit = await tx.get('SELECT 1 AS x FROM item WHERE v = ?', [7]);
      await tx.get('SELECT pg_sleep(0.02)'); // widen the race window between check and insert
      if (hit === undefined) await tx.run('INSERT INTO item (k, v) VALUES (?, ?)', [k, 7]);
    };

    /**
     * `a` holds `held` until released; `b` then locks with `lockInB`. `b` must get its locks only
     * after `a` committed, and see `a`'s write.
     */
    async function assertWaitsForHolder(
      held: string,
      lockInB: (tx: Tx) => Promise<void>,
    ): Promise<void> {
      const a = open({ isolation: 'read committed' });
      const b = open({ isolation: 'read committed' });
      const aHolds = deferred();
      const release = deferred();
      let bLockedAt = 0;
      let aCommittedAt = 0;
      const first = a
        .transaction(async (tx) => {
          await tx.lockKey(held);
          aHolds.resolve();
          await release.promise;
          await tx.run('INSERT INTO item (k, v) VALUES (?, ?)', ['a', 7]);
        })
        .then(() => (aCommittedAt = Date.now()));
      await aHolds.promise;
      const second = b.transaction(async (tx) => {
        await lockInB(tx);
        bLockedAt = Date.now();
        return tx.get<{ k: string }>('SELECT k FROM item WHERE v = ?', [7]);
      });
      await sleep(150);
      assert.equal(bLockedAt, 0, 'the second transaction took the lock while the first held it');
      release.resolve();
      const [, seen] = await Promise.all([first, second]);
      assert.ok(bLockedAt >= aCommittedAt - 5);
      assert.equal(seen?.k, 'a');
    }

    it('makes a transaction locking the same key wait until the holder commits, then see its write', async () => {
      await assertWaitsForHolder('Patient/1', (tx) => tx.lockKey('Patient/1'));
    });

    it('makes a key among those locked at once with lockKeys wait for its holder, after the transaction began', async () => {
      await assertWaitsForHolder('Patient/2', async (tx) => {
        await tx.lockKey('transaction-bundle');
        await tx.lockKeys(['Patient/3', 'Patient/2', 'Patient/1']);
      });
    });

    it('does not order transactions that lock different keys', async () => {
      const a = open({ isolation: 'read committed' });
      const b = open({ isolation: 'read committed' });
      const aHolds = deferred();
      const release = deferred();
      const first = a.transaction(async (tx) => {
        await tx.lockKey('Patient/1');
        aHolds.resolve();
        await release.promise;
      });
      await aHolds.promise;
      await b.transaction((tx) => tx.lockKey('Patient/2'));
      release.resolve();
      await first;
    });

    it('keeps concurrent conditional creates from two READ COMMITTED engines to exactly one', async () => {
      const a = open({ isolation: 'read committed' });
      const b = open({ isolation: 'read committed' });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).transaction(createIfAbsent(`c${i}`, true)),
        ),
      );
      const rows = await engine.all('SELECT k FROM item WHERE v = 7');
      assert.equal(rows.length, 1);
    });

    it('keeps concurrent conditional creates from two engines to exactly one without a lock (SERIALIZABLE)', async () => {
      const b = open();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? engine : b).transaction(createIfAbsent(`c${i}`, false)),
        ),
      );
      const rows = await engine.all('SELECT k FROM item WHERE v = 7');
      assert.equal(rows.length, 1);
    });

    it('keeps one ordered hash chain when two engines append to it at once (the audit pattern)', async () => {
      await engine.migrate([
        'CREATE TABLE chain (seq BIGINT PRIMARY KEY, prev TEXT NOT NULL, hash TEXT NOT NULL)',
      ]);
      const hash = (prev: string, n: number) =>
        createHash('sha256').update(`${prev}|${n}`).digest('hex');
      const append = (n: number) => async (tx: Tx) => {
        await tx.lockKey('audit:chain');
        const head = await tx.get<{ seq: number; hash: string }>(
          'SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1',
        );
        const prev = head?.hash ?? 'genesis';
        await tx.run('INSERT INTO chain (seq, prev, hash) VALUES (?, ?, ?)', [
          (head?.seq ?? 0) + 1,
          prev,
          hash(prev, n),
        ]);
      };
      const a = open({ isolation: 'read committed' });
      const b = open({ isolation: 'read committed' });
      await Promise.all(
        Array.from({ length: 30 }, (_, n) => (n % 2 === 0 ? a : b).transaction(append(n))),
      );
      const rows = await engine.all<{ seq: number; prev: string; hash: string }>(
        'SELECT seq, prev, hash FROM chain ORDER BY seq',
      );
      assert.deepEqual(
        rows.map((r) => r.seq),
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      rows.forEach((r, i) => {
        assert.equal(r.prev, i === 0 ? 'genesis' : rows[i - 1]?.hash);
      });
    });

    it('holds a lock taken after the first query until the transaction ends', async () => {
      const b = open();
      const aHolds = deferred();
      const release = deferred();
      let bLocked = false;
      const first = engine.transaction(async (tx) => {
        await tx.get('SELECT 1 AS x');
        await tx.lockKey('k');
        aHolds.resolve();
        await release.promise;
      });
      await aHolds.promise;
      const second = b.transaction(async (tx) => {
        await tx.lockKey('k');
        bLocked = true;
      });
      await sleep(100);
      assert.equal(bLocked, false);
      release.resolve();
      await Promise.all([first, second]);
      assert.equal(bLocked, true);
    });
  });
});
