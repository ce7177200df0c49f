import type { Worker } from 'node:worker_threads';
import { moduleWorker } from '../../common/module-worker.js';
import type { OutcomeIssue } from '../fhir/outcome.js';

export interface ValidateRequest {
  id: number;
  /** The Bundle's request body, as received. */
  body: Uint8Array;
  /** Placeholder (`urn:uuid:…`) → `Type/id`, as the transaction will rewrite them. */
  placeholders: [string, string][];
}

export type ValidateReply =
  | { id: number; ok: true; issues: (OutcomeIssue[] | null)[] }
  | { id: number; ok: false; message: string };

/** Per entry of the Bundle: the validation issues of the resource it writes, or null. */
export type EntryIssues = readonly (readonly OutcomeIssue[] | null)[];

/** The thread exits after this long without work (it starts again with the next Bundle). */
const IDLE_MS = 30_000;

/**
 * Validates the resources of a Bundle's POST and PUT entries on a thread of its own, so the
 * event loop can run the previous Bundle's transaction meanwhile: on two cores, ingest then uses
 * both (Medplum's validator was about a third of the store's CPU per written resource). Started
 * on first use, stopped after {@link IDLE_MS} idle, started afresh after a crash. Its answers are
 * only ever a shortcut: `undefined` (thread failed, or not worth it) makes the caller validate
 * each entry itself, as it always could.
 */
export class ValidatorThread {
  private current:
    { worker: Worker; waiting: Map<number, (r: EntryIssues | undefined) => void> } | undefined;
  private nextId = 1;
  private idle: NodeJS.Timeout | undefined;
  /** Bundles the thread has validated (metrics and tests). */
  answered = 0;

  validateEntries(
    body: Buffer,
    placeholders: ReadonlyMap<string, string>,
  ): Promise<EntryIssues | undefined> {
    const { worker, waiting } = this.current ?? this.start();
    // A copy of just the body's bytes, moved (a Buffer's view may share a larger pooled memory).
    const copy = new Uint8Array(body);
    const req: ValidateRequest = { id: this.nextId++, body: copy, placeholders: [...placeholders] };
    clearTimeout(this.idle);
    return new Promise((resolve) => {
      waiting.set(req.id, resolve);
      if (waiting.size === 1) worker.ref();
      worker.postMessage(req, [copy.buffer]);
    });
  }

  private start(): NonNullable<ValidatorThread['current']> {
    const worker = moduleWorker(import.meta.url, './validate-worker', {});
    const waiting = new Map<number, (r: EntryIssues | undefined) => void>();
    const current = { worker, waiting };
    worker.unref();
    worker.on('message', (reply: ValidateReply) => {
      const resolve = waiting.get(reply.id);
      if (resolve === undefined) return;
      waiting.delete(reply.id);
      if (waiting.size === 0) {
        worker.unref();
        this.idle = setTimeout(() => {
          if (this.current === current && waiting.size === 0) void this.close();
        }, IDLE_MS).unref();
      }
      if (reply.ok) this.answered++;
      resolve(reply.ok ? reply.issues : undefined);
    });
    const fail = (): void => {
      if (this.current === current) this.current = undefined;
      for (const resolve of waiting.values()) resolve(undefined);
      waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    this.current = current;
    return current;
  }

  /** Stops the thread (what it was asked and has not answered is validated by the callers). */
  async close(): Promise<void> {
    clearTimeout(this.idle);
    const current = this.current;
    if (current === undefined) return;
    this.current = undefined;
    await current.worker.terminate();
  }
}
