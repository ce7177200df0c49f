import type { Database } from 'better-sqlite3';

/** Whether `err` is SQLite's "another connection holds the lock" (SQLITE_BUSY and its extended codes). */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

/**
 * `BEGIN IMMEDIATE` that waits for another process's write lock without blocking the event loop.
 * better-sqlite3 is synchronous, so SQLite's own busy handler (`busy_timeout`) would freeze this
 * process — its reads included — for as long as another store process (WORKERS > 1) or the admin
 * CLI writes. The writer connection therefore keeps a short busy timeout and this loop retries on
 * SQLITE_BUSY with jittered, growing sleeps until `waitMs` have passed; then the SQLITE_BUSY error
 * is thrown (the store answers it with 503 + Retry-After).
 */
export async function beginImmediate(db: Database, waitMs: number): Promise<void> {
  const giveUpAt = Date.now() + waitMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      db.exec('BEGIN IMMEDIATE');
      return;
    } catch (err) {
      if (!isBusy(err) || Date.now() >= giveUpAt) throw err;
    }
    const cap = Math.min(50, 2 ** attempt);
    await sleep(Math.min(cap / 2 + Math.random() * (cap / 2), Math.max(0, giveUpAt - Date.now())));
  }
}
