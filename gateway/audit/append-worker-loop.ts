import type { MessagePort } from 'node:worker_threads';
import type { AppendResult } from './audit-store.js';
import type { AuditEntry } from './entries.js';

/**
 * What the gateway's audit writer thread (append-thread.ts) and its main-thread end exchange. The
 * thread runs each group commit (chain, inserts, commit) on a connection of its own, so the
 * gateway's event loop keeps serving requests meanwhile; it answers a batch only after its
 * transaction has committed. The trail sends batches without waiting for earlier answers; those
 * that queue up while a commit runs are committed together next.
 */
export interface AppendRequest {
  id: number;
  /**
   * The batch's entries as a JSON array (cheaper to pass between threads than a structured clone);
   * a REST request's record becomes its AuditEvents in the thread, not on the event loop.
   */
  entries: string;
  /** Sign the new head in the same transaction (with the deployment key, loaded in the thread). */
  sign: boolean;
}

export type AppendReply =
  { id: number; ok: true; result: AppendResult } | { id: number; ok: false; message: string };

/** The writer thread's store: SQLite's (sqlite-append-worker.ts) or PostgreSQL's (postgres-…). */
export interface GroupAppender {
  /** Appends each group's events, in order, in ONE transaction; one result per group. */
  appendGroups(
    groups: readonly (readonly AuditEntry[])[],
    sign: boolean,
  ): AppendResult[] | Promise<AppendResult[]>;
  /** Resolves when the next append may start (SQLite: after a checkpoint the WAL waits for). */
  beforeAppend?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves appends on `port` with `store`, one group commit at a time: every batch that arrived
 * while the previous commit ran goes into the next one, in order. `lines`: send each record's
 * text back (AppendResult.lines), else an empty list.
 */
export function serveAppends(port: MessagePort, store: GroupAppender, lines: boolean): void {
  /** Batches that arrived while the previous group commit ran: they commit together, in order. */
  let waiting: AppendRequest[] = [];
  let closing = false;
  /** The group commits, one after the other (one may wait for a WAL checkpoint before it starts). */
  let commits: Promise<void> = Promise.resolve();

  const scheduleCommit = (): void => {
    commits = commits.then(async () => {
      await store.beforeAppend?.().catch(() => undefined);
      await commitWaiting();
    });
  };

  const commitWaiting = async (): Promise<void> => {
    const requests = waiting;
    waiting = [];
    if (requests.length === 0) return;
    let replies: AppendReply[];
    try {
      const groups = requests.map((r) => JSON.parse(r.entries) as AuditEntry[]);
      const results = await store.appendGroups(
        groups,
        requests.some((r) => r.sign),
      );
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
  };

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
    // transaction takes them all (and all that queue while a commit or checkpoint is awaited).
    if (waiting.push(m) === 1) setImmediate(scheduleCommit);
  });
}
