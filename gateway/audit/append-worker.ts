import { parentPort, workerData } from 'node:worker_threads';
import type { SqliteSync } from '../../common/config.js';
import type { AppendResult } from './audit-store.js';
import type { AuditEntry } from './entries.js';
import { openPostgresAuditStore } from './postgres-audit-store.js';
import type { CheckpointKey } from './signing-key.js';
import { openSqliteAuditStore } from './sqlite-audit-store.js';

/**
 * The audit writer thread (started by `appendThread` in the SQLite and PostgreSQL audit stores):
 * it owns its own connection(s) to the trail and runs each group commit there (chain, canonical
 * JSON, hashes, inserts, commit), so the gateway's event loop keeps serving requests meanwhile.
 * It answers a batch only after its transaction has committed. The trail sends batches without
 * waiting for earlier answers; those that queue up while a commit runs are committed together
 * next, in the order sent.
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

export type AppendWorkerData = (
  { engine: 'sqlite'; dataDir: string; sync: SqliteSync } | { engine: 'postgres'; storeUrl: string }
) & {
  /** Send each record's text back (AppendResult.lines), else an empty list. */
  lines: boolean;
};

if (parentPort === null) throw new Error('append-worker runs as a worker thread');
const port = parentPort;
const data = workerData as AppendWorkerData;
const store =
  data.engine === 'sqlite'
    ? openSqliteAuditStore({ dataDir: data.dataDir, sync: data.sync })
    : // A dropped idle connection is replaced on the next commit; nothing to report here.
      openPostgresAuditStore({
        storeUrl: data.storeUrl,
        poolSize: 1,
        onIdleError: () => undefined,
      });
let key: CheckpointKey | undefined;
/** Batches that arrived while the previous group commit ran: they commit together, in order. */
let waiting: AppendRequest[] = [];
let pumping: Promise<void> | undefined;
let scheduled = false;
let closing = false;

async function commit(requests: AppendRequest[]): Promise<void> {
  let replies: AppendReply[];
  try {
    const sign = requests.some((r) => r.sign);
    if (sign) key ??= await store.signingKey(true);
    const groups = requests.map((r) => JSON.parse(r.entries) as AuditEntry[]);
    const results = await store.appendGroups(groups, sign ? key : undefined);
    replies = requests.map((r, i): AppendReply => {
      const result = results[i];
      return result === undefined
        ? { id: r.id, ok: false, message: 'audit append produced no result' }
        : { id: r.id, ok: true, result: data.lines ? result : { ...result, lines: [] } };
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    replies = requests.map((r): AppendReply => ({ id: r.id, ok: false, message }));
  }
  for (const reply of replies) port.postMessage(reply);
}

/** Commits what waits, then what arrived meanwhile, until nothing waits. */
function pump(): Promise<void> {
  pumping ??= (async () => {
    while (waiting.length > 0) {
      const requests = waiting;
      waiting = [];
      await commit(requests);
    }
  })().finally(() => {
    pumping = undefined;
    if (waiting.length > 0) schedule();
  });
  return pumping;
}

/**
 * Every message already queued on the port is delivered before setImmediate runs, so one
 * transaction takes them all.
 */
function schedule(): void {
  if (scheduled || pumping !== undefined) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    void pump();
  });
}

port.on('message', (m: AppendRequest | 'close') => {
  if (m === 'close') {
    closing = true;
    void (async () => {
      try {
        while (pumping !== undefined || waiting.length > 0) await pump();
      } finally {
        await store.close();
        port.close();
      }
    })();
    return;
  }
  if (closing) {
    port.postMessage({ id: m.id, ok: false, message: 'the audit writer thread is closing' });
    return;
  }
  waiting.push(m);
  schedule();
});
