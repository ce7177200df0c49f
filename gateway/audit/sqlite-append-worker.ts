import { parentPort, workerData } from 'node:worker_threads';
import type { SqliteSync } from '../../common/config.js';
import { serveAppends } from './append-worker-loop.js';
import { loadCheckpointKey, type CheckpointKey } from './signing-key.js';
import { openSqliteAuditStore } from './sqlite-audit-store.js';

/**
 * The SQLite audit writer thread (started by `AppendThread` for sqlite-audit-store.ts): it owns
 * its own connection to `DATA_DIR/audit.db` and runs each group commit there (chain, inserts,
 * fsync), so the gateway's event loop keeps serving requests while a batch is made durable.
 */
export interface SqliteAppendWorkerData {
  dataDir: string;
  sync: SqliteSync;
  /** Send each record's text back (AppendResult.lines), else an empty list. */
  lines: boolean;
}

if (parentPort === null) throw new Error('sqlite-append-worker runs as a worker thread');
const { dataDir, sync, lines } = workerData as SqliteAppendWorkerData;
const store = openSqliteAuditStore({ dataDir, sync, checkpointThread: true });
let key: CheckpointKey | undefined;
serveAppends(
  parentPort,
  {
    appendGroups: (groups, sign) =>
      store.appendGroups(groups, sign ? (key ??= loadCheckpointKey(dataDir, true)) : undefined),
    beforeAppend: () => store.beforeAppend(),
    close: () => store.close(),
  },
  lines,
);
