import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteEngine, type SqliteEngine } from '../../../store/engines/sqlite/index.js';

/**
 * Two engines on one file lock each other out exactly as two store processes do (WORKERS > 1).
 * Both live in this process, so a writer that waited for the lock by blocking (SQLite's own busy
 * handler) would also stop the other engine from ever committing.
 */
describe('SQLite engine: waiting for another connection’s write lock', function () {
  this.timeout(30_000);
  let dir: string;
  let a: SqliteEngine;
  let b: SqliteEngine;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-busy-'));
    const file = path.join(dir, 'fhir.db');
    a = openSqliteEngine({ file, sync: 'normal' });
    b = openSqliteEngine({ file, sync: 'normal', busyTimeoutMs: 400 });
    await a.migrate(['CREATE TABLE t (n INTEGER NOT NULL)']);
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a transaction on `a` that holds the write lock until `release` is called. */
  function holdLock(): { held: Promise<void>; release: () => void; done: Promise<void> } {
    let release = (): void => undefined;
    let markHeld = (): void => undefined;
    const held = new Promise<void>((r) => (markHeld = r));
    const done = a.transaction(async (tx) => {
      await tx.run('INSERT INTO t (n) VALUES (1)');
      markHeld();
      await new Promise<void>((r) => (release = r));
    });
    return {
      held,
      release: () => {
        release();
      },
      done,
    };
  }

  it('waits without blocking the event loop and commits once the lock is released', async () => {
    const lock = holdLock();
    await lock.held;
    const write = b.transaction((tx) => tx.run('INSERT INTO t (n) VALUES (2)'));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    await new Promise((r) => setTimeout(r, 100));
    lock.release();
    await lock.done;
    await write;
    clearInterval(ticker);
    assert.ok(ticks >= 10, `the event loop ran only ${ticks} timer ticks while b waited`);
    const rows = await b.all<{ n: number }>('SELECT n FROM t ORDER BY n');
    assert.deepEqual(
      rows.map((r) => r.n),
      [1, 2],
    );
  });

  it('fails with SQLITE_BUSY once busyTimeoutMs has passed, and writes again afterwards', async () => {
    const lock = holdLock();
    await lock.held;
    const started = Date.now();
    await assert.rejects(
      b.transaction((tx) => tx.run('INSERT INTO t (n) VALUES (2)')),
      (err: { code?: string }) => err.code === 'SQLITE_BUSY',
    );
    assert.ok(Date.now() - started >= 380, 'gave up before its busy timeout');
    lock.release();
    await lock.done;
    await b.transaction((tx) => tx.run('INSERT INTO t (n) VALUES (3)'));
    const rows = await a.all<{ n: number }>('SELECT n FROM t ORDER BY n');
    assert.deepEqual(
      rows.map((r) => r.n),
      [1, 3],
    );
  });
});
