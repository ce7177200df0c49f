import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Tx } from '../../../store/engines/engine.js';
import { deferred, postgresEngines, sleep } from '../../support/postgres-engines.js';

describe('postgres engine: lockKey across engines (two processes on one database)', function () {
  this.timeout(20_000);
  const fx = postgresEngines();
  const open = fx.open;

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
    const rows = await fx.engine.all('SELECT k FROM item WHERE v = 7');
    assert.equal(rows.length, 1);
  });

  it('keeps concurrent conditional creates from two engines to exactly one without a lock (SERIALIZABLE)', async () => {
    const b = open();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? fx.engine : b).transaction(createIfAbsent(`c${i}`, false)),
      ),
    );
    const rows = await fx.engine.all('SELECT k FROM item WHERE v = 7');
    assert.equal(rows.length, 1);
  });

  it('keeps one ordered hash chain when two engines append to it at once (the audit pattern)', async () => {
    await fx.engine.migrate([
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
    const rows = await fx.engine.all<{ seq: number; prev: string; hash: string }>(
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
    const first = fx.engine.transaction(async (tx) => {
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
