import assert from 'node:assert/strict';
import { QueryTimeoutError, type Engine } from '../../store/engines/engine.js';

export interface EngineUnderTest {
  engine: Engine;
  /** A second, independent engine on the same database (another process's view). */
  other(): Promise<Engine>;
  cleanup(): Promise<void>;
}

/**
 * The contract every store engine keeps. Call it with a factory for a fresh, empty database;
 * the PostgreSQL engine runs the same suite with its own factory.
 */
export function engineContract(name: string, factory: () => Promise<EngineUnderTest>): void {
  describe(`engine contract: ${name}`, function () {
    this.timeout(20_000);
    let t: EngineUnderTest;
    let engine: Engine;

    beforeEach(async () => {
      t = await factory();
      engine = t.engine;
      await engine.migrate([
        'CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)',
      ]);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('runs parameterised statements and reads rows back', async () => {
      await engine.transaction(async (tx) => {
        await tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['a', 1]);
        await tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ["b'; DROP TABLE kv; --", 2]);
      });
      const rows = await engine.all<{ k: string; v: number }>('SELECT k, v FROM kv ORDER BY v');
      assert.deepEqual(
        rows.map((r) => [r.k, Number(r.v as unknown)]),
        [
          ['a', 1],
          ["b'; DROP TABLE kv; --", 2],
        ],
      );
      const one = await engine.get<{ v: number }>('SELECT v FROM kv WHERE k = ?', ['a']);
      assert.equal(Number(one?.v), 1);
      assert.equal(await engine.get('SELECT v FROM kv WHERE k = ?', ['zzz']), undefined);
    });

    it('runs a statement once per parameter list in order (runMany), and a failing row fails the transaction', async () => {
      await engine.transaction((tx) =>
        tx.runMany('INSERT INTO kv (k, v) VALUES (?, ?)', [
          ['m1', 1],
          ['m2', 2],
          ['m3', 3],
        ]),
      );
      const rows = await engine.all<{ k: string; v: number }>('SELECT k, v FROM kv ORDER BY k');
      assert.deepEqual(
        rows.map((r) => [r.k, Number(r.v as unknown)]),
        [
          ['m1', 1],
          ['m2', 2],
          ['m3', 3],
        ],
      );
      await assert.rejects(
        engine.transaction((tx) =>
          tx.runMany('INSERT INTO kv (k, v) VALUES (?, ?)', [
            ['m4', 4],
            ['m1', 5],
          ]),
        ),
      );
      assert.equal((await engine.all('SELECT k FROM kv')).length, 3);
    });

    it('applies migrations idempotently', async () => {
      const ddl = [
        'CREATE TABLE IF NOT EXISTS m1 (x INTEGER)',
        'CREATE INDEX IF NOT EXISTS m1_x ON m1 (x)',
      ];
      await engine.migrate(ddl);
      await engine.migrate(ddl);
      await engine.transaction((tx) => tx.run('INSERT INTO m1 (x) VALUES (?)', [1]));
      assert.equal((await engine.all('SELECT x FROM m1')).length, 1);
    });

    it('rolls back a transaction that throws, and only that one, even when they arrive together', async () => {
      const results = await Promise.allSettled([
        engine.transaction((tx) => tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['ok1', 1])),
        engine.transaction(async (tx) => {
          await tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['bad', 1]);
          throw new Error('boom');
        }),
        engine.transaction((tx) => tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['ok2', 1])),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      const keys = (await engine.all<{ k: string }>('SELECT k FROM kv ORDER BY k')).map((r) => r.k);
      assert.deepEqual(keys, ['ok1', 'ok2']);
    });

    it('rolls back every write of a transaction that throws alone, and goes on committing', async () => {
      await assert.rejects(
        engine.transaction(async (tx) => {
          await tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['alone1', 1]);
          await tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['alone2', 1]);
          throw new Error('boom');
        }),
        /boom/,
      );
      await engine.transaction((tx) => tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['after', 1]));
      const keys = (await engine.all<{ k: string }>('SELECT k FROM kv ORDER BY k')).map((r) => r.k);
      assert.deepEqual(keys, ['after']);
    });

    it('rejects a transaction whose statement fails (constraint) without harming its neighbours', async () => {
      await engine.transaction((tx) => tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['dup', 1]));
      const results = await Promise.allSettled([
        engine.transaction((tx) => tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['dup', 2])),
        engine.transaction((tx) => tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['fine', 2])),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['rejected', 'fulfilled'],
      );
      assert.equal((await engine.all('SELECT k FROM kv')).length, 2);
    });

    it('serialises concurrent read-modify-write transactions without losing an update', async () => {
      await engine.transaction((tx) => tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['n', 0]));
      await Promise.all(
        Array.from({ length: 50 }, () =>
          engine.transaction(async (tx) => {
            const row = await tx.get<{ v: number }>('SELECT v FROM kv WHERE k = ?', ['n']);
            await tx.run('UPDATE kv SET v = ? WHERE k = ?', [Number(row?.v) + 1, 'n']);
          }),
        ),
      );
      const row = await engine.get<{ v: number }>('SELECT v FROM kv WHERE k = ?', ['n']);
      assert.equal(Number(row?.v), 50);
    });

    it('resolves a transaction only once it is committed and visible to another connection', async () => {
      const other = await t.other();
      try {
        await engine.transaction((tx) =>
          tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['seen', 7]),
        );
        const row = await other.get<{ v: number }>('SELECT v FROM kv WHERE k = ?', ['seen']);
        assert.equal(Number(row?.v), 7);
      } finally {
        await other.close();
      }
    });

    it('does not show uncommitted writes to queries outside the transaction', async () => {
      let seenInside: unknown;
      let seenOutside: unknown;
      await engine.transaction(async (tx) => {
        await tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['pending', 1]);
        seenInside = await tx.get('SELECT v FROM kv WHERE k = ?', ['pending']);
        seenOutside = await engine.get('SELECT v FROM kv WHERE k = ?', ['pending']);
      });
      assert.notEqual(seenInside, undefined);
      assert.equal(seenOutside, undefined);
    });

    it('sees writes made through another connection immediately (no stale cache)', async () => {
      await engine.get('SELECT v FROM kv WHERE k = ?', ['ext']);
      const other = await t.other();
      try {
        await other.transaction((tx) => tx.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['ext', 3]));
      } finally {
        await other.close();
      }
      const row = await engine.get<{ v: number }>('SELECT v FROM kv WHERE k = ?', ['ext']);
      assert.equal(Number(row?.v), 3);
    });

    it('stops a long scan at its deadline with QueryTimeoutError (hearth_budget in the WHERE clause)', async () => {
      const started = Date.now();
      await assert.rejects(
        engine.get(
          `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE hearth_budget() = 1)
           SELECT count(*) AS n FROM c`,
          [],
          { deadline: Date.now() + 150 },
        ),
        (e: unknown) => e instanceof QueryTimeoutError,
      );
      assert.ok(Date.now() - started < 5000);
      // the engine still answers afterwards
      assert.equal((await engine.all('SELECT k FROM kv')).length, 0);
    });

    it('stops a long row stream at its deadline with QueryTimeoutError', async () => {
      await assert.rejects(
        engine.all(
          `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000) SELECT x FROM c`,
          [],
          { deadline: Date.now() + 150 },
        ),
        (e: unknown) => e instanceof QueryTimeoutError,
      );
    });

    it('answers a query within its deadline normally', async () => {
      const row = await engine.get<{ n: number }>(
        'SELECT count(*) AS n FROM kv WHERE hearth_budget() = 1',
        [],
        {
          deadline: Date.now() + 5000,
        },
      );
      assert.equal(Number(row?.n), 0);
    });
  });
}
