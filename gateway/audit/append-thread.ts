import type { Worker } from 'node:worker_threads';
import { moduleWorker } from '../../common/module-worker.js';
import type { AppendResult } from './audit-store.js';
import type { AuditEntry } from './entries.js';
import type { AppendReply, AppendRequest } from './append-worker-loop.js';
import type { PostgresAppendWorkerData } from './postgres-append-worker.js';
import type { SqliteAppendWorkerData } from './sqlite-append-worker.js';

/** Which writer thread, and what it starts from. */
export type AppendThreadOf =
  | { entry: './sqlite-append-worker'; data: SqliteAppendWorkerData }
  | { entry: './postgres-append-worker'; data: PostgresAppendWorkerData };

interface Waiting {
  resolve(r: AppendResult): void;
  reject(err: Error): void;
}

/**
 * The main-thread end of the audit writer thread (SQLite's or PostgreSQL's, see
 * append-worker-loop.ts): `append` posts a batch and resolves when the thread reports it
 * committed. The thread starts with the store, is kept referenced only while a batch is in
 * flight, and started afresh after a crash (whose batches are rejected: their requests get the
 * gateway's "no audit, no data" 500).
 */
export class AppendThread {
  /** The running thread and the batches it was sent and has not answered yet. */
  private current: { worker: Worker; waiting: Map<number, Waiting> } | undefined;
  private nextId = 1;

  constructor(private readonly of: AppendThreadOf) {
    // Started at once, so it loads while the rest of Hearth starts, not on the first request.
    this.start();
  }

  append(entries: readonly AuditEntry[], sign: boolean): Promise<AppendResult> {
    const req: AppendRequest = { id: this.nextId++, entries: JSON.stringify(entries), sign };
    const { worker, waiting } = this.current ?? this.start();
    return new Promise<AppendResult>((resolve, reject) => {
      waiting.set(req.id, { resolve, reject });
      if (waiting.size === 1) worker.ref();
      worker.postMessage(req);
    });
  }

  private start(): { worker: Worker; waiting: Map<number, Waiting> } {
    const worker = moduleWorker(import.meta.url, this.of.entry, {
      workerData: this.of.data,
      // 2 MiB semi-spaces (the process has 8): under load its young generation filled 16 MiB of
      // garbage; with 2 the thread's heap is 18 MiB instead of 30 (main process RSS −10 MiB).
      semiSpaceMb: 2,
    });
    const waiting = new Map<number, Waiting>();
    const current = { worker, waiting };
    worker.unref();
    worker.on('message', (reply: AppendReply) => {
      const w = waiting.get(reply.id);
      if (w === undefined) return;
      waiting.delete(reply.id);
      if (waiting.size === 0) worker.unref();
      if (reply.ok) w.resolve(reply.result);
      else w.reject(new Error(reply.message));
    });
    const fail = (err: Error): void => {
      if (this.current === current) this.current = undefined;
      for (const w of waiting.values()) w.reject(err);
      waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      fail(new Error(`the audit writer thread exited (${code})`));
    });
    this.current = current;
    return current;
  }

  /** Lets the thread finish what it was sent, close its connection and exit. */
  async close(): Promise<void> {
    const current = this.current;
    if (current === undefined) return;
    this.current = undefined;
    const { worker } = current;
    worker.ref();
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', () => {
        resolve();
      });
    });
    worker.postMessage('close');
    await exited;
  }
}
