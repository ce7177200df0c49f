import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteEngine } from '../../store/engines/sqlite/index.js';
import { engineContract } from './engine-contract.js';

engineContract('sqlite', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-engine-'));
  const file = path.join(dir, 'fhir.db');
  const engine = openSqliteEngine({ file });
  return Promise.resolve({
    engine,
    other: () => Promise.resolve(openSqliteEngine({ file })),
    cleanup: async () => {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
});

describe('sqlite engine', () => {
  it('commits transactions that arrive in the same event-loop turn together (group commit)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-engine-'));
    const engine = openSqliteEngine({ file: path.join(dir, 'fhir.db') });
    try {
      await engine.migrate(['CREATE TABLE t (x INTEGER)']);
      const before = engine.stats();
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          engine.transaction((tx) => tx.run('INSERT INTO t VALUES (?)', [i])),
        ),
      );
      const after = engine.stats();
      assert.equal(after.transactions - before.transactions, 40);
      assert.ok(after.commits - before.commits <= 2, `commits: ${after.commits - before.commits}`);
      assert.equal(engine.dialect, 'sqlite');
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checkpoints the WAL at most once per interval, copying the commits in between together', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-engine-'));
    const file = path.join(dir, 'fhir.db');
    const engine = openSqliteEngine({ file, checkpoint: { startAtWalBytes: 0 } });
    const waitFor = async (ok: () => boolean, ms: number): Promise<void> => {
      const deadline = Date.now() + ms;
      while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    };
    try {
      await engine.migrate(['CREATE TABLE t (x TEXT NOT NULL)']);
      await waitFor(() => engine.stats().checkpoints >= 1, 5000);
      assert.equal(engine.stats().checkpoints, 1, 'the first commit is checkpointed at once');
      const started = Date.now();
      // one after the other: with a checkpoint per commit, each would start one
      for (let i = 0; i < 20; i++)
        await engine.transaction((tx) => tx.run('INSERT INTO t VALUES (?)', ['x'.repeat(2000)]));
      if (Date.now() - started < 400)
        assert.equal(engine.stats().checkpoints, 1, 'none before the interval ends');
      const walBefore = statSync(`${file}-wal`).size;
      assert.ok(walBefore > 20 * 2000, `the WAL holds the 20 commits (${walBefore} bytes)`);
      await waitFor(() => engine.stats().checkpoints >= 2, 5000);
      assert.equal(engine.stats().checkpoints, 2, 'one checkpoint copied the 20 commits');
      const rows = await engine.all<{ n: number }>('SELECT count(*) AS n FROM t');
      assert.equal(rows[0]?.n, 20);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rolls back every write of the first transaction of a batch when it throws, and commits the rest of the batch', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-engine-'));
    const engine = openSqliteEngine({ file: path.join(dir, 'fhir.db') });
    try {
      await engine.migrate(['CREATE TABLE t (x INTEGER)']);
      const before = engine.stats();
      const results = await Promise.allSettled([
        engine.transaction(async (tx) => {
          await tx.run('INSERT INTO t VALUES (?)', [1]);
          await tx.run('INSERT INTO t VALUES (?)', [2]);
          throw new Error('boom');
        }),
        engine.transaction((tx) => tx.run('INSERT INTO t VALUES (?)', [3])),
        engine.transaction(async (tx) => {
          await tx.run('INSERT INTO t VALUES (?)', [4]);
          throw new Error('boom');
        }),
        engine.transaction((tx) => tx.run('INSERT INTO t VALUES (?)', [5])),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['rejected', 'fulfilled', 'rejected', 'fulfilled'],
      );
      const rows = await engine.all<{ x: number }>('SELECT x FROM t ORDER BY x');
      assert.deepEqual(
        rows.map((r) => r.x),
        [3, 5],
      );
      const after = engine.stats();
      assert.equal(after.commits - before.commits, 1);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses WAL and the configured synchronous level', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-engine-'));
    const engine = openSqliteEngine({ file: path.join(dir, 'fhir.db'), sync: 'full' });
    try {
      const mode = await engine.get<{ journal_mode: string }>('PRAGMA journal_mode');
      assert.equal(mode?.journal_mode, 'wal');
      const sync = await engine.get<{ synchronous: number }>('PRAGMA synchronous');
      assert.equal(sync?.synchronous, 2);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
