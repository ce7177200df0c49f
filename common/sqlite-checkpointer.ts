import type { Database } from 'better-sqlite3';
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import {
  CHECKPOINT_WORKER_SOURCE,
  type CheckpointReply,
  type CheckpointWorkerData,
} from './sqlite-checkpoint-worker.js';

/** SQLite's own automatic checkpoint threshold (pages), in force until the thread runs. */
const AUTOCHECKPOINT_PAGES = 1000;

export interface CheckpointerOptions {
  /**
   * The thread starts once the WAL file has reached this size (default: SQLite's own threshold,
   * 1,000 pages of 4 KiB): a database that is written little never pays for a thread.
   */
  startAtWalBytes?: number;
  /**
   * WAL frames past which the writer waits (asynchronously) for the running checkpoint before its
   * next transaction (default 16,384, 64 MiB): SQLite restarts the WAL from its start only when a
   * write transaction begins with every frame copied back, which back-to-back transactions would
   * otherwise never let happen.
   */
  walWaitFrames?: number;
  /**
   * The least time (ms) from the start of one checkpoint to the start of the next (default 0: one
   * after every COMMIT). With an interval the commits in between are copied back together by the
   * next checkpoint, each page once, with one fsync of the database file. The audit writer, which
   * commits hundreds of small batches a second under load, takes 100: a checkpoint after every
   * COMMIT cost it 40 % more CPU per read (233 against 165 µs), with the interval about 4 %. The
   * store's writer takes 500 (sqlite-engine.ts: ingest 5–8 % faster). The WAL can then grow by one
   * interval's writes past `walWaitFrames`.
   */
  minIntervalMs?: number;
}

/**
 * Moves the WAL checkpoint off a SQLite writer's thread (the store's writer connection, the audit
 * writer thread's connection). With SQLite's automatic checkpoint the COMMIT that crosses 1,000 WAL
 * pages copies them into the database file and fsyncs it before it returns (during ingest a fifth
 * of the store's time, mostly waiting for the disk; on the audit trail a 12–78 ms stall for every
 * request waiting on that commit). Once the WAL has grown that far once, a thread with its own
 * connection takes over (sqlite-checkpoint-worker.ts): the writer stops checkpointing
 * (`wal_autocheckpoint = 0`) and after a COMMIT the thread runs a PASSIVE checkpoint (after each
 * one, or at most once per `minIntervalMs`).
 * Durability is unchanged: COMMIT still writes and syncs the WAL. If the thread fails, the
 * writer's automatic checkpoint is switched back on.
 */
export class Checkpointer {
  private worker: Worker | undefined;
  private failed = false;
  private inFlight: Promise<void> | undefined;
  private again = false;
  /** Frames in the WAL at the last checkpoint. */
  private walFrames = 0;
  private readonly startAtWalBytes: number;
  private readonly walWaitFrames: number;
  private readonly minIntervalMs: number;
  /** When the last checkpoint started (performance.now()). */
  private lastStart = Number.NEGATIVE_INFINITY;
  /** The checkpoint waiting for the end of the interval. */
  private timer: NodeJS.Timeout | undefined;
  checkpoints = 0;

  constructor(
    private readonly writer: Database,
    private readonly file: string,
    opts: CheckpointerOptions = {},
  ) {
    this.startAtWalBytes = opts.startAtWalBytes ?? AUTOCHECKPOINT_PAGES * 4096;
    this.walWaitFrames = opts.walWaitFrames ?? 16_384;
    this.minIntervalMs = opts.minIntervalMs ?? 0;
  }

  /**
   * Call after each COMMIT: a checkpoint runs now, or once the running one is done, or at the end of
   * the interval since the last one started.
   */
  committed(): void {
    const worker = this.worker ?? this.start();
    if (worker === undefined) return;
    if (this.inFlight !== undefined) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) return;
    const wait = this.lastStart + this.minIntervalMs - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.committed();
      }, wait);
      this.timer.unref();
      return;
    }
    this.lastStart = performance.now();
    this.inFlight = this.run(worker).finally(() => {
      this.inFlight = undefined;
      if (this.again) {
        this.again = false;
        this.committed();
      }
    });
  }

  /**
   * Before a write transaction: when the WAL has grown past `walWaitFrames`, waits for the
   * running checkpoint, so the transaction can restart the WAL from its start.
   */
  async beforeWrite(): Promise<void> {
    if (this.walFrames < this.walWaitFrames) return;
    if (this.timer !== undefined) {
      // the WAL is too long to wait for the interval's end: checkpoint now
      clearTimeout(this.timer);
      this.timer = undefined;
      this.lastStart = Number.NEGATIVE_INFINITY;
      this.committed();
    }
    if (this.inFlight !== undefined) await this.inFlight;
  }

  /** Starts the thread once the WAL has reached `startAtWalBytes`. */
  private start(): Worker | undefined {
    if (this.failed) return undefined;
    let walBytes: number;
    try {
      walBytes = statSync(`${this.file}-wal`).size;
    } catch {
      return undefined; // no WAL file (yet)
    }
    if (walBytes < this.startAtWalBytes) return undefined;
    const data: CheckpointWorkerData = { file: this.file, from: import.meta.url };
    const worker = new Worker(CHECKPOINT_WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: data,
    });
    worker.unref();
    worker.on('error', () => {
      this.fallBack();
    });
    worker.on('exit', () => {
      this.fallBack();
    });
    this.worker = worker;
    this.writer.pragma('wal_autocheckpoint = 0');
    return worker;
  }

  private run(worker: Worker): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (reply: CheckpointReply | undefined): void => {
        worker.off('message', done);
        worker.off('exit', gone);
        if (reply?.ok === true) {
          this.walFrames = reply.log;
          this.checkpoints += 1;
        }
        resolve();
      };
      const gone = (): void => {
        done(undefined);
      };
      worker.on('message', done);
      worker.once('exit', gone);
      worker.postMessage('checkpoint');
    });
  }

  /** The thread is gone: the writer checkpoints by itself again, for good. */
  private fallBack(): void {
    this.failed = true;
    if (this.worker === undefined) return;
    this.worker = undefined;
    this.walFrames = 0;
    try {
      this.writer.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    } catch {
      // the writer is closed already
    }
  }

  /** Lets the running checkpoint finish and stops the thread (before the writer closes). */
  async close(): Promise<void> {
    this.failed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const worker = this.worker;
    if (worker === undefined) return;
    this.again = false;
    if (this.inFlight !== undefined) await this.inFlight;
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', () => {
        resolve();
      });
    });
    worker.ref();
    worker.postMessage('close');
    await exited;
  }
}
