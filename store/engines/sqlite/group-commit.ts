import type { Tx } from '../engine.js';
import { beginImmediate } from './begin-immediate.js';
import { queryable, runManyOn, type Connection } from './connection.js';

interface Pending {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** What the committer tells about its commits (the WAL checkpointer, see common/sqlite-checkpointer.ts). */
export interface CommitHooks {
  /** Awaited before each `BEGIN IMMEDIATE`. */
  beforeWrite(): Promise<void>;
  /** Called after each successful COMMIT. */
  committed(): void;
}

/** Upper bound of transactions sharing one commit (bounds the latency of the first in a batch). */
const MAX_BATCH = 1000;

/**
 * Serialised write transactions with group commit: every transaction that arrives in the same
 * event-loop turn runs inside one `BEGIN IMMEDIATE … COMMIT`, each but the first in its own
 * SAVEPOINT so a failure rolls back only itself (see `commitFrom`). The batch is flushed on
 * `setImmediate` (never a fixed timer: a timer sets a latency floor for every client in flight),
 * and each promise settles only after COMMIT returned.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  private running: Promise<void> | undefined;
  commits = 0;
  transactions = 0;

  /** `lockWaitMs`: how long a batch waits for another process's write lock before failing. */
  constructor(
    private readonly conn: Connection,
    private readonly lockWaitMs = 5000,
    private readonly hooks?: CommitHooks,
  ) {}

  submit<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves once every submitted transaction has settled. */
  async drain(): Promise<void> {
    while (this.running !== undefined || this.queue.length > 0 || this.scheduled) {
      if (this.running !== undefined) await this.running;
      else await new Promise((r) => setImmediate(r));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.running !== undefined) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.flush().finally(() => {
        this.running = undefined;
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH);
    let next = 0;
    while (next < batch.length) next = await this.commitFrom(batch, next);
  }

  /**
   * Runs `batch` from `start` inside one `BEGIN IMMEDIATE … COMMIT` and settles what it ran;
   * returns where the next commit starts.
   *
   * The first transaction after BEGIN runs without a savepoint: a savepoint makes SQLite copy every
   * page the transaction changes into a statement journal first (~4 KB per page; a transaction
   * Bundle changes thousands), and the first needs none, since when it fails a ROLLBACK undoes
   * just its own writes (the others of the batch then get a BEGIN of their own). Every later one
   * runs in its own SAVEPOINT, so its failure rolls back only itself.
   */
  private async commitFrom(batch: Pending[], start: number): Promise<number> {
    const db = this.conn.db;
    await this.hooks?.beforeWrite();
    try {
      await beginImmediate(db, this.lockWaitMs);
    } catch (err) {
      for (const p of batch.slice(start)) p.reject(err);
      return batch.length;
    }
    const first = batch[start];
    if (first === undefined) return batch.length;
    const head = await this.runOne(first, false);
    if (!head.ok) {
      if (db.inTransaction) db.exec('ROLLBACK');
      first.reject(head.error);
      return start + 1;
    }
    const ran: Pending[] = [first];
    const outcomes: Outcome[] = [head];
    // SQLite may have rolled the transaction back itself (I/O error, disk full…)
    let broken: unknown = db.inTransaction
      ? undefined
      : new Error('the database ended the transaction unexpectedly');
    for (const p of batch.slice(start + 1)) {
      ran.push(p);
      if (broken !== undefined) {
        outcomes.push({ ok: false, error: broken });
        continue;
      }
      outcomes.push(await this.runOne(p));
      if (!db.inTransaction) broken = new Error('the database ended the transaction unexpectedly');
    }
    if (broken !== undefined) {
      // SQLite rolled the whole transaction back: nothing in it survived.
      for (const p of ran) p.reject(broken);
      return batch.length;
    }
    try {
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      for (const p of ran) p.reject(err);
      return batch.length;
    }
    this.commits += 1;
    this.transactions += ran.length;
    this.hooks?.committed();
    ran.forEach((p, i) => {
      const o = outcomes[i];
      if (o?.ok === true) p.resolve(o.value);
      else p.reject(o?.error);
    });
    return batch.length;
  }

  private async runOne(p: Pending, savepoint = true): Promise<Outcome> {
    const db = this.conn.db;
    let open = true;
    const guard = () => {
      if (!open) throw new Error('transaction already ended (a query was not awaited)');
    };
    // lockKey is a no-op: SQLite has one writer, so transactions never overlap in any process.
    const noLock = () =>
      new Promise<void>((resolve) => {
        guard();
        resolve();
      });
    const tx: Tx = {
      ...queryable(this.conn, guard),
      runMany: runManyOn(this.conn, guard),
      lockKey: noLock,
      lockKeys: noLock,
    };
    if (savepoint) db.exec('SAVEPOINT hearth_tx');
    try {
      const value = await p.fn(tx);
      open = false;
      if (savepoint) db.exec('RELEASE hearth_tx');
      return { ok: true, value };
    } catch (error) {
      open = false;
      if (savepoint && db.inTransaction) {
        db.exec('ROLLBACK TO hearth_tx');
        db.exec('RELEASE hearth_tx');
      }
      return { ok: false, error };
    }
  }
}
