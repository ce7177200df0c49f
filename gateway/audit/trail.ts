import type { AuditEvent } from '@medplum/fhirtypes';
import type { SqliteSync } from '../../common/config.js';
import type { Logger } from '../../common/logger.js';
import type { AppendResult, AuditStore } from './audit-store.js';
import type { Checkpoint } from './checkpoint.js';
import { entrySize, restEntry, type AuditEntry } from './entries.js';
import type { RestAuditInput } from './events.js';
import { openNdjsonSink, type NdjsonSink } from './ndjson-sink.js';
import { openAuditStore } from './open-audit-store.js';
import type { AuditPage, AuditQuery } from './search.js';
import type { CheckpointKey } from './signing-key.js';

export { AUDIT_DB_FILE } from './sqlite-audit-store.js';

export interface AuditTrailOptions {
  dataDir: string;
  sync: SqliteSync;
  /**
   * STORE_URL: with `postgres://…` the trail lives in PostgreSQL (schema `<store schema>_audit`),
   * otherwise in `DATA_DIR/audit.db`. Ignored when `store` is given.
   */
  storeUrl?: string | undefined;
  /** An audit store opened by the caller (the trail closes it on `close()`). */
  store?: AuditStore;
  /** `AUDIT_NDJSON`: a file path, or `-` for stdout. */
  ndjson?: string | undefined;
  log: Logger;
  /** A signed checkpoint is written after this many records… */
  checkpointEvery?: number;
  /** …or this long after the last one, whichever comes first (when new records exist). */
  checkpointIntervalMs?: number;
  /** Most records committed in one transaction (one `record` call is never split, whatever its size). */
  maxBatch?: number;
  /**
   * Commit on a writer thread so the event loop serves requests during a commit and does not chain
   * the batches (default true; ignored when `store` is given).
   */
  appendThread?: boolean;
}

/** One `record` call: its entries are committed together, in one batch. */
interface Pending {
  entries: AuditEntry[];
  size: number;
  done: { resolve: () => void; reject: (err: unknown) => void };
}

/**
 * The tamper-evident audit trail, one writer among any number (the gateway processes of WORKERS=n,
 * the admin CLI, other Hearths on the same PostgreSQL database): each commit reads the chain's
 * true head under the store's chain lock, so together they build one chain. `record()` resolves
 * once the event is durable. Group commit: what is recorded while the previous commit runs (or in
 * one event-loop turn) is committed together, one transaction and one fsync per batch. A
 * pipelined store (one with a writer thread) is handed each event-loop turn's batch at once and
 * merges those that wait behind a running commit, so no commit waits for this loop to turn.
 */
export class AuditTrail {
  private readonly store: AuditStore;
  private readonly sink: NdjsonSink | undefined;
  private readonly log: Logger;
  private readonly checkpointEvery: number;
  private readonly checkpointIntervalMs: number;
  private readonly maxBatch: number;
  private readonly opened: Promise<CheckpointKey>;
  private queue: Pending[] = [];
  /** Records (events) in `queue`. */
  private queued = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private draining: Promise<void> | undefined;
  /** Commits handed to a pipelined store and not answered yet. */
  private readonly inFlight = new Set<Promise<void>>();
  private sinceCheckpoint = 0;
  private lastCheckpointAt = Date.now();
  private closed = false;

  constructor(opts: AuditTrailOptions) {
    this.store =
      opts.store ??
      openAuditStore({
        dataDir: opts.dataDir,
        sync: opts.sync,
        storeUrl: opts.storeUrl,
        appendThread: opts.appendThread ?? true,
        threadLines: opts.ndjson !== undefined,
        onIdleError: (err) => {
          opts.log.warn({ err }, 'audit database connection dropped');
        },
      });
    this.log = opts.log;
    this.sink = opts.ndjson === undefined ? undefined : openNdjsonSink(opts.ndjson);
    this.checkpointEvery = opts.checkpointEvery ?? 1000;
    this.checkpointIntervalMs = opts.checkpointIntervalMs ?? 60_000;
    this.maxBatch = opts.maxBatch ?? 256;
    this.opened = this.open();
    this.opened.catch(() => undefined);
  }

  private async open(): Promise<CheckpointKey> {
    const key = await this.store.signingKey(true);
    if (key === undefined) throw new Error('audit signing key missing');
    const [head, checkpointed] = await Promise.all([
      this.store.head(),
      this.store.latestCheckpointSeq(),
    ]);
    this.sinceCheckpoint = Math.max(0, head.seq - checkpointed);
    return key;
  }

  /** Resolves once the store is reachable and the signing key loaded (rejects with why not). */
  async ready(): Promise<void> {
    await this.opened;
  }

  /** Where the trail is kept (a file path or a PostgreSQL schema), for logs. */
  get where(): string {
    return this.store.where;
  }

  /** Appends events; resolves when they are durable (rejects when they could not be written). */
  record(events: AuditEvent | AuditEvent[]): Promise<void> {
    const list = Array.isArray(events) ? events : [events];
    if (list.length === 0 && !this.closed) return Promise.resolve();
    return this.enqueue(list, list.length);
  }

  /**
   * Appends the AuditEvents of one REST request (restAuditEvents), built where the batch is
   * chained (the SQLite writer thread) rather than here; resolves when they are durable.
   */
  recordRest(input: RestAuditInput): Promise<void> {
    const entry = restEntry(input);
    return this.enqueue([entry], entrySize(entry));
  }

  private enqueue(entries: AuditEntry[], size: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('audit trail is closed'));
    const done = new Promise<void>((resolve, reject) => {
      this.queue.push({ entries, size, done: { resolve, reject } });
    });
    this.queued += size;
    if (this.queued >= this.maxBatch) this.kick();
    else
      this.scheduled ??= setImmediate(() => {
        this.kick();
      });
    return done;
  }

  /** Records waiting for the next group commit. */
  queueDepth(): number {
    return this.queued;
  }

  /** The next batch: whole `record` calls, up to maxBatch records (at least one call). */
  private takeBatch(): Pending[] {
    let n = 0;
    let size = 0;
    for (const p of this.queue) {
      if (n > 0 && size + p.size > this.maxBatch) break;
      n += 1;
      size += p.size;
    }
    this.queued -= size;
    return this.queue.splice(0, n);
  }

  /**
   * Starts committing: a pipelined store gets every queued batch at once; otherwise unless a commit
   * runs (its end picks up whatever queued meanwhile).
   */
  private kick(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.store.pipelined === true) {
      while (this.queue.length > 0) {
        const committed = this.commit(this.takeBatch());
        this.inFlight.add(committed);
        void committed.finally(() => this.inFlight.delete(committed));
      }
      return;
    }
    if (this.draining !== undefined || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) await this.commit(this.takeBatch());
  }

  /** Commits one batch and settles its callers' promises (never rejects). */
  private async commit(batch: Pending[]): Promise<void> {
    let key: CheckpointKey;
    try {
      key = await this.opened;
    } catch (err) {
      this.log.error({ err }, 'audit trail could not be opened');
      this.queued = 0;
      for (const p of [...batch, ...this.queue.splice(0)]) p.done.reject(err);
      return;
    }
    const size = batch.reduce((n, p) => n + p.size, 0);
    this.sinceCheckpoint += size;
    const sign = this.checkpointDue() ? key : undefined;
    let result: AppendResult;
    try {
      result = await this.store.append(
        batch.flatMap((p) => p.entries),
        sign,
      );
    } catch (err) {
      this.sinceCheckpoint -= size;
      this.log.error({ err }, 'audit commit failed');
      for (const p of batch) p.done.reject(err);
      return;
    }
    // A REST record's size was an estimate (a bulk download may add an event).
    this.sinceCheckpoint += result.records - size;
    if (sign !== undefined) {
      this.sinceCheckpoint = 0;
      this.lastCheckpointAt = Date.now();
    }
    if (this.sink !== undefined) {
      try {
        this.sink.write(result.lines);
      } catch (err) {
        this.log.error({ err }, 'AUDIT_NDJSON write failed');
      }
    }
    for (const p of batch) p.done.resolve();
  }

  /** Waits until everything recorded so far is committed (or failed). */
  private async settle(): Promise<void> {
    this.kick();
    while (this.draining !== undefined || this.inFlight.size > 0) {
      await this.draining;
      await Promise.all(this.inFlight);
    }
  }

  private checkpointDue(): boolean {
    return (
      this.sinceCheckpoint >= this.checkpointEvery ||
      (this.sinceCheckpoint > 0 && Date.now() - this.lastCheckpointAt >= this.checkpointIntervalMs)
    );
  }

  /** Commits what is queued, then signs the current head of the chain now. */
  async checkpoint(): Promise<Checkpoint> {
    await this.settle();
    const cp = await this.store.checkpoint(await this.opened);
    this.sinceCheckpoint = 0;
    this.lastCheckpointAt = Date.now();
    return cp;
  }

  search(query: AuditQuery): Promise<AuditPage> {
    return this.store.search(query);
  }

  async read(id: string): Promise<AuditEvent | undefined> {
    if (!/^[1-9][0-9]{0,15}$/.test(id)) return undefined;
    return this.store.read(Number(id));
  }

  /** Whether the audit database answers (for `/health`). */
  ping(): Promise<boolean> {
    return this.store.ping();
  }

  /** Commits what is queued, writes a final checkpoint when records were added, and closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.settle();
      const key = await this.opened.catch(() => undefined);
      if (key !== undefined && this.sinceCheckpoint > 0) {
        await this.store.checkpoint(key).catch((err: unknown) => {
          this.log.error({ err }, 'final audit checkpoint failed');
        });
      }
    } finally {
      this.sink?.close();
      await this.store.close();
    }
  }
}
