import { parentPort, workerData } from 'node:worker_threads';
import type { SqliteSync } from '../../common/config.js';
import type { AppendResult } from './audit-store.js';
import type { AuditEntry } from './entries.js';
import type { CheckpointKey } from './signing-key.js';
import { openSqliteAuditStore } from './sqlite-audit-store.js';

/**
 * The SQLite audit writer thread (started by `appendThread` in sqlite-audit-store.ts): it owns its
 * own connection to `DATA_DIR/audit.db` and runs each group commit there (chain, inserts, fsync),
 * so the gateway's event loop keeps serving requests while a batch is made durable. It answers a
 * batch only after its transaction has committed.
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
}

const port = parentPort;
if (port === null) throw new Error('sqlite-append-worker runs as a worker thread');
const { dataDir, sync } = workerData as AppendWorkerData;
const store = openSqliteAuditStore({ dataDir, sync });
let key: CheckpointKey | undefined;

port.on('message', (m: AppendRequest | 'close') => {
  if (m === 'close') {
    void store.close().finally(() => {
      port.close();
    });
    return;
  }
  void (async (): Promise<AppendReply> => {
    try {
      if (m.sign) key ??= await store.signingKey(true);
      const entries = JSON.parse(m.entries) as AuditEntry[];
      const result = await store.append(entries, m.sign ? key : undefined);
      return { id: m.id, ok: true, result };
    } catch (err) {
      return { id: m.id, ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  })().then((reply) => {
    port.postMessage(reply);
  });
});
