/**
 * The SQLite checkpointer thread (started by `Checkpointer`): its own connection to the database
 * copies committed WAL frames back into the database file (`PRAGMA wal_checkpoint(PASSIVE)`,
 * which never waits for or blocks the writer or the readers) and fsyncs it, off the store's
 * event loop. It answers every 'checkpoint' message with the checkpoint's figures and closes on
 * 'close'.
 *
 * The thread runs this source as it is (`eval`, without the parent's `execArgv`): it needs only
 * better-sqlite3, and so starts in milliseconds, also where the parent runs TypeScript through a
 * loader (tests), which a worker would otherwise load first.
 */
export const CHECKPOINT_WORKER_SOURCE = `
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
const Database = createRequire(workerData.from)('better-sqlite3');
const db = new Database(workerData.file);
// frames go from the WAL straight to the database file: the page cache can stay small
db.pragma('cache_size = -1024');
db.pragma('busy_timeout = 0');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  let reply;
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    reply = { ok: true, busy: row.busy, log: row.log, checkpointed: row.checkpointed };
  } catch (err) {
    reply = { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  parentPort.postMessage(reply);
});
`;

export interface CheckpointWorkerData {
  /** The database file. */
  file: string;
  /** A module URL better-sqlite3 is resolved from. */
  from: string;
}

export type CheckpointReply =
  { ok: true; busy: number; log: number; checkpointed: number } | { ok: false; message: string };
