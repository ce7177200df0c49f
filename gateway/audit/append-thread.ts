import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AuditEvent } from '@medplum/fhirtypes';
import { siblingEntry } from '../../common/child-process.js';
import type { AppendResult } from './audit-store.js';
import type { AppendReply, AppendRequest, AppendWorkerData } from './sqlite-append-worker.js';

interface Waiting {
  resolve(r: AppendResult): void;
  reject(err: Error): void;
}

/**
 * The main-thread end of the SQLite audit writer thread: `append` posts a batch and resolves when
 * the thread reports it committed. The thread starts with the store, is kept referenced only while
 * a batch is in flight, and started afresh after a crash (whose batches are rejected: their
 * requests get the gateway's "no audit, no data" 500).
 */
export class AppendThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;

  constructor(private readonly data: AppendWorkerData) {
    // Started at once, so it loads while the rest of Hearth starts, not on the first request.
    this.start();
  }

  append(events: readonly AuditEvent[], sign: boolean): Promise<AppendResult> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<AppendResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) worker.ref();
      const req: AppendRequest = { id, events: JSON.stringify(events), sign };
      worker.postMessage(req);
    });
  }

  private start(): Worker {
    const entry = siblingEntry(import.meta.url, './sqlite-append-worker');
    // From TypeScript sources (tests under tsx) the thread registers tsx's loader first.
    const worker = entry.endsWith('.ts')
      ? new Worker(
          `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(entry).href)}); });`,
          { eval: true, workerData: this.data },
        )
      : new Worker(entry, { workerData: this.data });
    worker.unref();
    worker.on('message', (reply: AppendReply) => {
      const w = this.waiting.get(reply.id);
      if (w === undefined) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (reply.ok) w.resolve(reply.result);
      else w.reject(new Error(reply.message));
    });
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      fail(new Error(`the audit writer thread exited (${code})`));
    });
    this.worker = worker;
    return worker;
  }

  /** Lets the thread finish what it was sent, close its connection and exit. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
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
