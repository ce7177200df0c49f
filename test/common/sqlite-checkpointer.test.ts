import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Checkpointer } from '../../common/sqlite-checkpointer.js';
import { Connection } from '../../store/engines/sqlite/connection.js';
import { GroupCommitter } from '../../store/engines/sqlite/group-commit.js';
import { openSqliteEngine } from '../../store/engines/sqlite/index.js';

const PAGE = 4096;
const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });
const size = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

/**
 * The WAL checkpoint runs on a thread of its own (checkpointer.ts), not in the COMMIT that crosses
 * SQLite's 1,000-page threshold on the store's event loop.
 */
describe('SQLite engine: WAL checkpoints off the event loop', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-checkpoint-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies each commit into the database file soon after it commits, once the WAL was large', async () => {
    const file = path.join(dir, 'fhir.db');
    const engine = openSqliteEngine({ file, sync: 'full' });
    const insert = (rows: number) =>
      engine.transaction(async (tx) => {
        for (let i = 0; i < rows; i++)
          await tx.run('INSERT INTO t (v) VALUES (?)', ['x'.repeat(3000)]);
      });
    try {
      await engine.migrate(['CREATE TABLE t (v TEXT NOT NULL)']);
      await insert(1200); // past SQLite's 1,000-page threshold: the thread takes over
      const before = size(file);
      // SQLite's own checkpoint would wait for another 1,000 WAL pages; this commit writes ~60
      await insert(60);
      const deadline = Date.now() + 5000;
      while (size(file) < before + 60 * 3000 && Date.now() < deadline) await sleep(20);
      assert.ok(size(file) >= before + 60 * 3000, `database file ${before} → ${size(file)} bytes`);
      const rows = await engine.get<{ n: number }>('SELECT COUNT(*) AS n FROM t');
      assert.equal(rows?.n, 1260);
    } finally {
      await engine.close();
    }
  });

  for (const minIntervalMs of [0, 10_000])
    it(`keeps the WAL bounded under back-to-back transactions (checkpoint interval ${minIntervalMs} ms)`, async () => {
      const file = path.join(dir, 'fhir.db');
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (v TEXT NOT NULL)');
      const checkpointer = new Checkpointer(db, file, {
        startAtWalBytes: 0,
        walWaitFrames: 64,
        minIntervalMs,
      });
      const committer = new GroupCommitter(new Connection(db), 5000, checkpointer);
      let largest = 0;
      try {
        // the thread is up (in the store it starts with the process, long before the first write),
        // and its first checkpoint saw a WAL past walWaitFrames (~100 pages)
        await committer.submit(async (tx) => {
          for (let i = 0; i < 100; i++)
            await tx.run('INSERT INTO t (v) VALUES (?)', ['y'.repeat(3500)]);
          await tx.run('DELETE FROM t');
        });
        const deadline = Date.now() + 10_000;
        while (checkpointer.checkpoints === 0 && Date.now() < deadline) await sleep(20);
        assert.ok(checkpointer.checkpoints > 0, 'the checkpoint thread answered');
        // each transaction writes ~100 pages and deletes them again; 40 of them, each submitted
        // as soon as the previous one committed (never a pause for the WAL to be caught up in)
        for (let n = 0; n < 40; n++) {
          await committer.submit(async (tx) => {
            for (let i = 0; i < 100; i++)
              await tx.run('INSERT INTO t (v) VALUES (?)', ['y'.repeat(3500)]);
            await tx.run('DELETE FROM t');
          });
          largest = Math.max(largest, size(`${file}-wal`));
        }
      } finally {
        await committer.drain();
        await checkpointer.close();
        db.close();
      }
      // without waiting for the checkpoint the WAL grows by every transaction (~40 × 100 pages)
      assert.ok(largest < 1200 * PAGE, `the WAL reached ${largest} bytes`);
    });

  it('runs one checkpoint for the commits of an interval, not one per commit', async () => {
    const file = path.join(dir, 'audit.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (v TEXT NOT NULL)');
    const checkpointer = new Checkpointer(db, file, { startAtWalBytes: 0, minIntervalMs: 300 });
    const committer = new GroupCommitter(new Connection(db), 5000, checkpointer);
    try {
      await committer.submit((tx) => tx.run('INSERT INTO t (v) VALUES (?)', ['z']));
      const deadline = Date.now() + 10_000;
      while (checkpointer.checkpoints === 0 && Date.now() < deadline) await sleep(20);
      assert.equal(checkpointer.checkpoints, 1, 'the first commit is checkpointed at once');
      const before = size(file);
      // 30 small commits inside one interval
      for (let n = 0; n < 30; n++)
        await committer.submit((tx) => tx.run('INSERT INTO t (v) VALUES (?)', ['x'.repeat(3000)]));
      assert.equal(checkpointer.checkpoints, 1, 'no checkpoint before the interval ends');
      const until = Date.now() + 5000;
      // the file grows while the checkpoint copies; the thread's answer (the count) comes after
      const answered = () => checkpointer.checkpoints;
      while ((size(file) < before + 30 * 3000 || answered() < 2) && Date.now() < until)
        await sleep(20);
      assert.ok(size(file) >= before + 30 * 3000, `database file ${before} → ${size(file)} bytes`);
      assert.equal(checkpointer.checkpoints, 2, 'the next checkpoint copied all 30 commits');
    } finally {
      await committer.drain();
      await checkpointer.close();
      db.close();
    }
  });
});
