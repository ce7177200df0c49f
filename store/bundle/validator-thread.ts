import type { Worker } from 'node:worker_threads';
import { moduleWorker } from '../../common/module-worker.js';
import type { OutcomeIssue } from '../fhir/outcome.js';
import type { ParsedEntry } from './entry.js';

export type ValidateRequest =
  | {
      id: number;
      kind: 'bundle';
      /** The Bundle's request body, as received. */
      body: Uint8Array;
      /** Placeholder (`urn:uuid:…`) → `Type/id`, as the transaction will rewrite them. */
      placeholders: [string, string][];
    }
  | {
      id: number;
      kind: 'lines';
      /** NDJSON lines of a `$import` batch, one resource each. */
      lines: string[];
    };

export type ValidateReply =
  | { id: number; ok: true; issues: (OutcomeIssue[] | null)[] }
  | { id: number; ok: false; message: string };

/** Per entry of the Bundle (line of NDJSON): the validation issues of its resource, or null. */
export type EntryIssues = readonly (readonly OutcomeIssue[] | null)[];

/** The entries whose resource the thread validates: POST and PUT with a resource. */
export function validatesEntry(e: ParsedEntry): boolean {
  return (e.method === 'POST' || e.method === 'PUT') && e.resource !== undefined;
}

/** The thread exits after this long without work (it starts again with the next Bundle). */
const IDLE_MS = 30_000;

/** What the thread says once its validator is loaded and warm (before any request). */
export const VALIDATOR_READY = 'ready';

interface Running {
  worker: Worker;
  waiting: Map<number, (r: EntryIssues | undefined) => void>;
  /** The thread has loaded the validator (`VALIDATOR_READY`). */
  warm: boolean;
  /** Resolves when it is warm, or undefined when it failed first. */
  warmed: Promise<void>;
}

/**
 * Validates the resources of a Bundle's POST and PUT entries (and `$import` lines) on a thread of
 * its own, so the event loop can run the previous Bundle's transaction meanwhile: on two cores,
 * ingest then uses both (Medplum's validator was about a third of the store's CPU per written
 * resource). Its answers are only ever a shortcut: `undefined` makes the caller validate each
 * entry itself, as it always could. It answers `undefined` at once while the thread is not warm,
 * so no request waits for a thread to start: the first Bundle after a quiet spell starts it (and
 * is validated on the event loop, as before), the Bundles after it use it. It stops after
 * {@link IDLE_MS} without work, and a crashed one is started afresh by the next Bundle.
 */
export class ValidatorThread {
  private current: Running | undefined;
  private nextId = 1;
  private idle: NodeJS.Timeout | undefined;
  /** Requests the thread has answered (metrics and tests). */
  answered = 0;

  validateEntries(
    body: Buffer,
    placeholders: ReadonlyMap<string, string>,
  ): Promise<EntryIssues | undefined> {
    const running = this.warmThread();
    if (running === undefined) return Promise.resolve(undefined);
    // A copy of just the body's bytes, moved (a Buffer's view may share a larger pooled memory).
    const copy = new Uint8Array(body);
    const id = this.nextId++;
    return this.post(running, { id, kind: 'bundle', body: copy, placeholders: [...placeholders] }, [
      copy.buffer,
    ]);
  }

  /**
   * Validates `$import` NDJSON lines as `importOne` would (`validateFhirResource(toPlain(…))` of
   * each parsed line); an empty or unparsable line gets null.
   */
  validateLines(lines: string[]): Promise<EntryIssues | undefined> {
    const running = this.warmThread();
    if (running === undefined) return Promise.resolve(undefined);
    return this.post(running, { id: this.nextId++, kind: 'lines', lines }, []);
  }

  /** Starts the thread (when it is not running) and resolves once it is warm or has failed. */
  async ready(): Promise<void> {
    await (this.current ?? this.start()).warmed;
  }

  /** The running thread when it is warm; otherwise undefined, starting it when it is not running. */
  private warmThread(): Running | undefined {
    const running = this.current ?? this.start();
    return running.warm ? running : undefined;
  }

  private post(
    { worker, waiting }: Running,
    req: ValidateRequest,
    transfer: ArrayBuffer[],
  ): Promise<EntryIssues | undefined> {
    clearTimeout(this.idle);
    return new Promise((resolve) => {
      waiting.set(req.id, resolve);
      if (waiting.size === 1) worker.ref();
      worker.postMessage(req, transfer);
    });
  }

  private start(): Running {
    // 2 MiB semi-spaces (the process has 8): 12 MiB less while ingest runs, same ingest rate.
    const worker = moduleWorker(import.meta.url, './validate-worker', { semiSpaceMb: 2 });
    const waiting = new Map<number, (r: EntryIssues | undefined) => void>();
    let warmed = (): void => undefined;
    const current: Running = {
      worker,
      waiting,
      warm: false,
      warmed: new Promise<void>((resolve) => {
        warmed = resolve;
      }),
    };
    const stopWhenIdle = (): void => {
      clearTimeout(this.idle);
      this.idle = setTimeout(() => {
        if (this.current === current && waiting.size === 0) void this.close();
      }, IDLE_MS).unref();
    };
    worker.unref();
    worker.on('message', (reply: ValidateReply | typeof VALIDATOR_READY) => {
      if (reply === VALIDATOR_READY) {
        current.warm = true;
        warmed();
        stopWhenIdle();
        return;
      }
      const resolve = waiting.get(reply.id);
      if (resolve === undefined) return;
      waiting.delete(reply.id);
      if (waiting.size === 0) {
        worker.unref();
        stopWhenIdle();
      }
      if (reply.ok) this.answered++;
      resolve(reply.ok ? reply.issues : undefined);
    });
    const fail = (): void => {
      if (this.current === current) this.current = undefined;
      current.warm = false;
      warmed();
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
