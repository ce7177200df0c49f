import { parentPort, workerData } from 'node:worker_threads';
import type { SqliteSync } from '../../common/config.js';
import type { AppendResult } from './audit-store.js';
import type { AuditEntry } from './entries.js';
import { loadCheckpointKey, type CheckpointKey } from './signing-key.js';
import { openSqliteAuditStore } from './sqlite-audit-store.js';

/**
 * The SQLite audit writer thread (started by `appendThread` in sqlite-audit-store.ts): it owns its
 * own connection to `DATA_DIR/audit.db` and runs each group commit there (chain, inserts, fsync),
 * so the gateway's event loop keeps serving requests while a batch is made durable. It answers a
 * batch only after its transaction has committed. The trail sends batches without waiting for
 * earlier answers; those that queue up while a commit runs are committed together next.
 */

export interface AppendRequest {
  id: number;
  /**
   * The batch's entries as a JSON array (cheaper to pass between threads than a structured clone);
   * a REST request's record becomes its AuditEvents here, not on the event loop.
   */
  entries: string;
  /** Sign the new head in the same transaction (with the deployment key, loaded here). */
  sign: boolean;
}

export type AppendReply =
  { id: number; ok: true; result: AppendResult } | { id: number; ok: false; message: string };

export interface AppendWorkerData {
  dataDir: string;
  sync: SqliteSync;
  /** Send each record's text back (AppendResult.lines), else an empty list. */
  lines: boolean;
}

if (parentPort === null) throw new Error('sqlite-append-worker runs as a worker thread');
const port = parentPort;
const { dataDir, sync, lines } = workerData as AppendWorkerData;
const store = openSqliteAuditStore({ dataDir, sync, checkpointThread: true });
let key: CheckpointKey | undefined;
/** Batches that arrived while the previous group commit ran: they commit together, in order. */
let waiting: AppendRequest[] = [];
let closing = false;
/** The group commits, one after the other (one may wait for a WAL checkpoint before it starts). */
let commits: Promise<void> = Promise.resolve();

function scheduleCommit(): void {
  commits = commits.then(async () => {
    await store.beforeAppend().catch(() => undefined);
    commitWaiting();
  });
}

function commitWaiting(): void {
  const requests = waiting;
  waiting = [];
  if (requests.length === 0) return;
  let replies: AppendReply[];
  try {
    const sign = requests.some((r) => r.sign);
    if (sign) key ??= loadCheckpointKey(dataDir, true);
    const groups = requests.map((r) => JSON.parse(r.entries) as AuditEntry[]);
    const results = store.appendGroups(groups, sign ? key : undefined);
    replies = requests.map((r, i): AppendReply => {
      const result = results[i];
      return result === undefined
        ? { id: r.id, ok: false, message: 'audit append produced no result' }
        : { id: r.id, ok: true, result: lines ? result : { ...result, lines: [] } };
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    replies = requests.map((r): AppendReply => ({ id: r.id, ok: false, message }));
  }
  for (const reply of replies) port.postMessage(reply);
}

port.on('message', (m: AppendRequest | 'close') => {
  if (m === 'close') {
    closing = true;
    scheduleCommit();
    void commits
      .then(() => store.close())
      .finally(() => {
        port.close();
      });
    return;
  }
  if (closing) {
    port.postMessage({ id: m.id, ok: false, message: 'the audit writer thread is closing' });
    return;
  }
  // Every message already queued on the port is delivered before setImmediate runs, so one
  // transaction takes them all (and all that queue while a checkpoint is awaited).
  if (waiting.push(m) === 1) setImmediate(scheduleCommit);
});
