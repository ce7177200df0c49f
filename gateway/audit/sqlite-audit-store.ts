import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { JsonWebKey } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { SqliteSync } from '../../common/config.js';
import { Checkpointer } from '../../common/sqlite-checkpointer.js';
import { AppendThread } from './append-thread.js';
import { openAuditDb, type AuditDb } from './audit-db.js';
import { groupResults, type AppendResult, type AuditStore } from './audit-store.js';
import type { AuditEntry } from './entries.js';
import {
  chainGroups,
  EMPTY_HEAD,
  refsOf,
  RefSpans,
  type ChainHead,
  type RecordRow,
  type RefRow,
} from './chain.js';
import {
  checkpointValues,
  signCheckpoint,
  type Checkpoint,
  type CheckpointRow,
} from './checkpoint.js';
import { auditSearchSql, type AuditPage, type AuditQuery } from './search.js';
import {
  loadCheckpointKey,
  readPrivateJwk,
  writePrivateJwk,
  type CheckpointKey,
} from './signing-key.js';

export const AUDIT_DB_FILE = 'audit.db';

export interface SqliteAuditStoreOptions {
  dataDir: string;
  sync: SqliteSync;
  /** Open an existing database read-only (verify). */
  readonly?: boolean;
  /**
   * Run appends on a writer thread with its own connection (the gateway's trail), so the group
   * commit's inserts and fsync do not stop the event loop. Everything else stays on this thread.
   */
  appendThread?: boolean;
  /** With `appendThread`: the thread sends each record's text back (default true). */
  threadLines?: boolean;
  /**
   * Checkpoint the WAL on a thread of its own (common/sqlite-checkpointer.ts) instead of in the
   * COMMIT that crosses SQLite's threshold: the writer thread's store sets it, so no batch waits
   * for a checkpoint.
   */
  checkpointThread?: boolean;
}

type Value = string | number;

/** At most one WAL checkpoint of the audit database per this many ms (see CheckpointerOptions). */
const AUDIT_CHECKPOINT_INTERVAL_MS = 100;

/** The SQLite store, with the grouped append its writer thread uses. */
export interface SqliteAuditStore extends AuditStore {
  /**
   * Appends each group's events, in order, in ONE transaction (one fsync), signing the final head
   * with `sign`; one result per group (a checkpoint only in the last). Synchronous: the writer
   * thread's group commit.
   */
  appendGroups(
    groups: readonly (readonly AuditEntry[])[],
    sign: CheckpointKey | undefined,
  ): AppendResult[];
  /**
   * Resolves when the next append may start: at once, unless the WAL has grown so large that the
   * append should wait for the running checkpoint, so the WAL can restart from its beginning.
   */
  beforeAppend(): Promise<void>;
}

/**
 * The SQLite audit store: `DATA_DIR/audit.db`, key in `DATA_DIR/audit-signing-key.json`. Every
 * append is one `BEGIN IMMEDIATE` transaction that reads the head inside it, so the gateway
 * processes of WORKERS=n and the admin CLI, all on one DATA_DIR, keep one chain. Synchronous
 * underneath (better-sqlite3): one fsync per group commit.
 */
export function openSqliteAuditStore(opts: SqliteAuditStoreOptions): SqliteAuditStore {
  if (opts.readonly !== true) mkdirSync(opts.dataDir, { recursive: true });
  const db: AuditDb = openAuditDb(
    path.join(opts.dataDir, AUDIT_DB_FILE),
    opts.sync,
    opts.readonly === true,
  );
  const selectHead = db.prepare<[], ChainHead>(
    'SELECT seq, hash FROM audit_record ORDER BY seq DESC LIMIT 1',
  );
  const insertRecord =
    opts.readonly === true
      ? undefined
      : db.prepare<Value[]>(
          'INSERT INTO audit_record (seq, recorded, event, prev_hash, hash) VALUES (?, ?, ?, ?, ?)',
        );
  const insertRef =
    opts.readonly === true
      ? undefined
      : db.prepare<Value[]>(
          'INSERT INTO audit_ref (seq, span, param, value, ver) VALUES (?, ?, ?, ?, ?)',
        );
  const updateSpan =
    opts.readonly === true
      ? undefined
      : db.prepare<Value[]>(
          'UPDATE audit_ref SET span = ? WHERE param = ? AND value = ? AND seq = ? AND ver = ?',
        );
  const insertCheckpoint =
    opts.readonly === true
      ? undefined
      : db.prepare<Value[]>(
          'INSERT INTO audit_checkpoint (seq, hash, created, key_id, public_key, signature) VALUES (?, ?, ?, ?, ?, ?)',
        );
  const writable = <T>(s: T | undefined): T => {
    if (s === undefined) throw new Error('the audit database is open read-only');
    return s;
  };
  const head = (): ChainHead => selectHead.get() ?? EMPTY_HEAD;
  const storeCheckpoint = (key: CheckpointKey): Checkpoint => {
    const cp = signCheckpoint(key, head());
    writable(insertCheckpoint).run(...checkpointValues(cp));
    return cp;
  };
  const insertRecords = (records: readonly RecordRow[]): void => {
    for (const r of records) {
      writable(insertRecord).run(r.seq, r.recorded, r.event, r.prev_hash, r.hash);
    }
  };
  const insertRefs = (refs: readonly RefRow[]): void => {
    for (const r of refs) writable(insertRef).run(r.seq, r.span, r.param, r.value, r.ver);
  };
  /** Widens stored rows; one that is gone (someone deleted it) is written again whole. */
  const extendRefs = (rows: Iterable<RefRow>): void => {
    for (const r of rows) {
      if (writable(updateSpan).run(r.span, r.param, r.value, r.seq, r.ver).changes === 0) {
        insertRefs([r]);
      }
    }
  };
  const insertRows = (records: readonly RecordRow[], refs: readonly RefRow[]): void => {
    insertRecords(records);
    insertRefs(refs);
  };

  const thread =
    opts.appendThread === true && opts.readonly !== true
      ? new AppendThread({
          entry: './sqlite-append-worker',
          data: { dataDir: opts.dataDir, sync: opts.sync, lines: opts.threadLines ?? true },
        })
      : undefined;
  const checkpointer =
    opts.checkpointThread === true && opts.readonly !== true
      ? new Checkpointer(db, path.join(opts.dataDir, AUDIT_DB_FILE), {
          minIntervalMs: AUDIT_CHECKPOINT_INTERVAL_MS,
        })
      : undefined;
  /**
   * This connection's last record's search rows: the next append continues those runs. A row
   * widens only to the record right after the one it ends at (RefSpans), so when another process
   * has appended since, nothing carried widens, and a value every record shares (the client, the
   * action, the type) costs a row update per transaction instead of a new index entry.
   */
  let carry: ReadonlyMap<string, RefRow> | undefined;
  const appendGroups = (
    groups: readonly (readonly AuditEntry[])[],
    sign: CheckpointKey | undefined,
  ): AppendResult[] => {
    const carried = carry;
    // Taken now: a transaction that fails may have grown the carried rows' spans in memory.
    carry = undefined;
    const { results, next } = db
      .transaction(() => {
        // Inside the write transaction: another process may have appended since. One set of
        // search rows for the transaction: runs continue from batch to batch, and from this
        // connection's previous transaction.
        const spans = new RefSpans(carried);
        const chained = chainGroups(head(), groups, spans);
        insertRecords(chained.records);
        insertRefs(spans.rows);
        extendRefs(spans.extended);
        const checkpoint =
          sign !== undefined && groups.length > 0 ? storeCheckpoint(sign) : undefined;
        return { results: groupResults(chained.groups, checkpoint), next: spans.open() };
      })
      .immediate();
    carry = next;
    checkpointer?.committed();
    return results;
  };

  return {
    engine: 'sqlite',
    where: path.join(opts.dataDir, AUDIT_DB_FILE),
    pipelined: thread !== undefined,
    append(entries, sign) {
      if (thread !== undefined) return thread.append(entries, sign !== undefined);
      return run(() => {
        const [result] = appendGroups([entries], sign);
        if (result === undefined) throw new Error('audit append produced no result');
        return result;
      });
    },
    appendGroups,
    beforeAppend: () => checkpointer?.beforeWrite() ?? Promise.resolve(),
    checkpoint: (key) => run(() => db.transaction(() => storeCheckpoint(key)).immediate()),
    head: () => run(head),
    latestCheckpointSeq: () =>
      run(
        () =>
          db
            .prepare<[], { seq: number }>(
              'SELECT seq FROM audit_checkpoint ORDER BY id DESC LIMIT 1',
            )
            .get()?.seq ?? 0,
      ),
    signingKey: (create) => run(() => loadCheckpointKey(opts.dataDir, create)),
    exportKey: () => run(() => readPrivateJwk(opts.dataDir)),
    adoptKey: (jwk: JsonWebKey) =>
      run(() => {
        writePrivateJwk(opts.dataDir, jwk);
      }),
    search: (q: AuditQuery) =>
      run((): AuditPage => {
        const s = auditSearchSql(q);
        const total =
          db.prepare<Value[], { n: number }>(s.count.sql).get(...s.count.params)?.n ?? 0;
        const rows = db.prepare<Value[], { event: string }>(s.page.sql).all(...s.page.params);
        return { events: rows.map((r) => JSON.parse(r.event) as AuditEvent), total };
      }),
    read: (seq) =>
      run(() => {
        const row = db
          .prepare<[number], { event: string }>('SELECT event FROM audit_record WHERE seq = ?')
          .get(seq);
        return row === undefined ? undefined : (JSON.parse(row.event) as AuditEvent);
      }),
    records: (afterSeq, limit) =>
      run(() =>
        db
          .prepare<[number, number], RecordRow>(
            'SELECT seq, recorded, event, prev_hash, hash FROM audit_record WHERE seq > ? ORDER BY seq LIMIT ?',
          )
          .all(afterSeq, limit),
      ),
    checkpoints: (afterId, limit) =>
      run(() =>
        db
          .prepare<[number, number], CheckpointRow>(
            'SELECT id, seq, hash, created, key_id, public_key, signature FROM audit_checkpoint WHERE id > ? ORDER BY id LIMIT ?',
          )
          .all(afterId, limit),
      ),
    importRecords: (rows) =>
      run(() => {
        db.transaction(() => {
          const next = head().seq + 1;
          if (rows[0] !== undefined && rows[0].seq !== next) {
            throw new Error(`audit records must continue the chain at ${next}`);
          }
          insertRows(rows, refsOf(rows));
        }).immediate();
      }),
    importCheckpoints: (rows) =>
      run(() => {
        const insert = db.prepare<Value[]>(
          'INSERT INTO audit_checkpoint (id, seq, hash, created, key_id, public_key, signature) VALUES (?, ?, ?, ?, ?, ?, ?)',
        );
        db.transaction(() => {
          for (const r of rows) {
            insert.run(r.id, r.seq, r.hash, r.created, r.key_id, r.public_key, r.signature);
          }
        }).immediate();
      }),
    counts: () =>
      run(() => ({
        records:
          db.prepare<[], { n: number }>('SELECT count(*) AS n FROM audit_record').get()?.n ?? 0,
        checkpoints:
          db.prepare<[], { n: number }>('SELECT count(*) AS n FROM audit_checkpoint').get()?.n ?? 0,
      })),
    ping: () =>
      run(() => {
        try {
          return db.prepare('SELECT 1 AS ok').get() !== undefined;
        } catch {
          return false;
        }
      }),
    close: async () => {
      try {
        await thread?.close();
        await checkpointer?.close();
      } finally {
        if (db.open) db.close();
      }
    },
  };
}

/** Runs synchronous database work as a promise (a throw becomes a rejection). */
function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
