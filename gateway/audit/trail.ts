import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { SqliteSync } from '../../common/config.js';
import type { Logger } from '../../common/logger.js';
import { openAuditDb, type AuditDb } from './audit-db.js';
import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, recordHash } from './chain.js';
import { latestCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { indexValues } from './index-values.js';
import { openNdjsonSink, type NdjsonSink } from './ndjson-sink.js';
import { searchAudit, type AuditQuery, type AuditPage } from './search.js';
import { loadCheckpointKey, type CheckpointKey } from './signing-key.js';

export const AUDIT_DB_FILE = 'audit.db';

export interface AuditTrailOptions {
  dataDir: string;
  sync: SqliteSync;
  /** `AUDIT_NDJSON`: a file path, or `-` for stdout. */
  ndjson?: string | undefined;
  log: Logger;
  /** A signed checkpoint is written after this many records… */
  checkpointEvery?: number;
  /** …or this long after the last one, whichever comes first (when new records exist). */
  checkpointIntervalMs?: number;
  /** Most records committed in one transaction. */
  maxBatch?: number;
}

interface Pending {
  event: AuditEvent;
  done: { resolve: () => void; reject: (err: unknown) => void };
}

/**
 * The tamper-evident audit trail: the single writer of `DATA_DIR/audit.db`. `record()` resolves
 * once the event is durable; everything recorded in one event-loop turn is committed together
 * (group commit), so the cost is one fsync per turn, not per request.
 */
export class AuditTrail {
  private readonly db: AuditDb;
  private readonly key: CheckpointKey;
  private readonly sink: NdjsonSink | undefined;
  private readonly log: Logger;
  private readonly checkpointEvery: number;
  private readonly checkpointIntervalMs: number;
  private readonly maxBatch: number;
  private queue: Pending[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private head: { seq: number; hash: string };
  private sinceCheckpoint = 0;
  private lastCheckpointAt = Date.now();
  private closed = false;
  private readonly selectHead;
  private readonly insertRecord;
  private readonly insertRef;

  constructor(opts: AuditTrailOptions) {
    mkdirSync(opts.dataDir, { recursive: true });
    this.db = openAuditDb(path.join(opts.dataDir, AUDIT_DB_FILE), opts.sync);
    const key = loadCheckpointKey(opts.dataDir, true);
    if (key === undefined) throw new Error('audit signing key missing');
    this.key = key;
    this.log = opts.log;
    this.sink = opts.ndjson === undefined ? undefined : openNdjsonSink(opts.ndjson);
    this.checkpointEvery = opts.checkpointEvery ?? 1000;
    this.checkpointIntervalMs = opts.checkpointIntervalMs ?? 60_000;
    this.maxBatch = opts.maxBatch ?? 256;
    this.selectHead = this.db.prepare<[], { seq: number; hash: string }>(
      'SELECT seq, hash FROM audit_record ORDER BY seq DESC LIMIT 1',
    );
    this.head = this.selectHead.get() ?? { seq: 0, hash: GENESIS_HASH };
    this.sinceCheckpoint = this.head.seq - (latestCheckpoint(this.db)?.seq ?? 0);
    this.insertRecord = this.db.prepare(
      'INSERT INTO audit_record (seq, recorded, event, prev_hash, hash) VALUES (?, ?, ?, ?, ?)',
    );
    this.insertRef = this.db.prepare('INSERT INTO audit_ref (seq, param, value) VALUES (?, ?, ?)');
  }

  /** Appends events; resolves when they are durable (rejects when they could not be written). */
  record(events: AuditEvent | AuditEvent[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('audit trail is closed'));
    const list = Array.isArray(events) ? events : [events];
    const all = list.map(
      (event) =>
        new Promise<void>((resolve, reject) => {
          this.queue.push({ event, done: { resolve, reject } });
        }),
    );
    if (this.queue.length >= this.maxBatch) this.flush();
    else
      this.scheduled ??= setImmediate(() => {
        this.flush();
      });
    return Promise.all(all).then(() => undefined);
  }

  /** Records waiting for the next group commit. */
  queueDepth(): number {
    return this.queue.length;
  }

  private flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      const lines: string[] = [];
      let head = this.head;
      try {
        this.db
          .transaction(() => {
            // Read the head inside the write transaction: another process (the admin CLI, a second
            // worker) may have appended since, and the chain must continue from the true last record.
            head = this.selectHead.get() ?? { seq: 0, hash: GENESIS_HASH };
            for (const { event } of batch) {
              const seq = head.seq + 1;
              const stored: AuditEvent = { ...event, id: String(seq) };
              if (stored.recorded === '') stored.recorded = new Date().toISOString();
              const text = canonicalJson(stored);
              const hash = recordHash(seq, head.hash, text);
              this.insertRecord.run(seq, stored.recorded, text, head.hash, hash);
              for (const ref of indexValues(stored)) this.insertRef.run(seq, ref.param, ref.value);
              lines.push(text);
              head = { seq, hash };
            }
            this.sinceCheckpoint += batch.length;
            if (this.checkpointDue()) {
              writeCheckpoint(this.db, this.key);
              this.sinceCheckpoint = 0;
              this.lastCheckpointAt = Date.now();
            }
          })
          .immediate();
      } catch (err) {
        this.log.error({ err }, 'audit commit failed');
        for (const p of batch) p.done.reject(err);
        continue;
      }
      this.head = head;
      if (this.sink !== undefined) {
        try {
          this.sink.write(lines);
        } catch (err) {
          this.log.error({ err }, 'AUDIT_NDJSON write failed');
        }
      }
      for (const p of batch) p.done.resolve();
    }
  }

  private checkpointDue(): boolean {
    return (
      this.sinceCheckpoint >= this.checkpointEvery ||
      (this.sinceCheckpoint > 0 && Date.now() - this.lastCheckpointAt >= this.checkpointIntervalMs)
    );
  }

  /** Signs the current head now (`hearth audit checkpoint` while the server runs uses the file). */
  checkpoint(): Checkpoint {
    this.flush();
    const cp = writeCheckpoint(this.db, this.key);
    this.sinceCheckpoint = 0;
    this.lastCheckpointAt = Date.now();
    return cp;
  }

  search(query: AuditQuery): AuditPage {
    return searchAudit(this.db, query);
  }

  read(id: string): AuditEvent | undefined {
    if (!/^[1-9][0-9]{0,15}$/.test(id)) return undefined;
    const row = this.db
      .prepare<[number], { event: string }>('SELECT event FROM audit_record WHERE seq = ?')
      .get(Number(id));
    return row === undefined ? undefined : (JSON.parse(row.event) as AuditEvent);
  }

  /** Whether the audit database answers (for `/health`). */
  ping(): boolean {
    try {
      return this.db.prepare('SELECT 1 AS ok').get() !== undefined;
    } catch {
      return false;
    }
  }

  /** Commits what is queued, writes a final checkpoint when records were added, and closes. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.flush();
    this.closed = true;
    if (this.sinceCheckpoint > 0) writeCheckpoint(this.db, this.key);
    this.sink?.close();
    this.db.close();
    return Promise.resolve();
  }
}
