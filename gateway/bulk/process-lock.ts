import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';

/**
 * An exclusive lock between the processes sharing one DATA_DIR, held by the operating system: an
 * empty SQLite file whose EXCLUSIVE transaction is the lock (a POSIX record lock underneath). At
 * most one process holds it; the kernel releases it when its holder exits, however it exits
 * (`kill -9` included), so there is no stale lock to detect and no pid or clock to trust. Taking
 * it never waits: `tryLock` answers at once; `runExclusive` retries without blocking the event loop.
 */
export class ProcessLock {
  private readonly db: Database.Database;
  private held = false;
  /** Callers of `runExclusive` in this process, one after the other. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string) {
    this.db = new Database(file, { timeout: 0 });
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** Takes the lock when no other process holds it; true when this process holds it now. */
  tryLock(): boolean {
    if (this.held) return true;
    try {
      this.db.exec('BEGIN EXCLUSIVE');
      this.held = true;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY') throw err;
    }
    return this.held;
  }

  unlock(): void {
    if (!this.held) return;
    this.db.exec('ROLLBACK');
    this.held = false;
  }

  /**
   * Runs `fn` while holding the lock (one caller at a time, in this process and across processes);
   * a `LockBusyError` when the lock could not be taken within `waitMs`.
   */
  runExclusive<T>(fn: () => Promise<T>, waitMs: number): Promise<T> {
    const run = async (): Promise<T> => {
      const deadline = Date.now() + waitMs;
      while (!this.tryLock()) {
        if (Date.now() >= deadline) throw new LockBusyError(this.file);
        await sleep(2 + Math.random() * 8);
      }
      try {
        return await fn();
      } finally {
        this.unlock();
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Releases the lock (if held) and the file. */
  close(): void {
    this.unlock();
    this.db.close();
  }
}

export class LockBusyError extends Error {
  override readonly name = 'LockBusyError';

  constructor(file: string) {
    super(`${file} is held by another process`);
  }
}
