import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Engine, QueryOptions, RunResult, SqlValue, Tx } from '../engine.js';
import { isBusy } from './begin-immediate.js';
import { Checkpointer, type CheckpointerOptions } from '../../../common/sqlite-checkpointer.js';
import { Connection, queryable } from './connection.js';
import { GroupCommitter } from './group-commit.js';

export interface SqliteEngineOptions {
  /** Database file (created with its folder when missing). */
  file: string;
  /** `full` (default): a committed write survives power loss; `normal`: faster, may lose the last commits. */
  sync?: 'full' | 'normal';
  /**
   * How long a write transaction waits for another process's write lock (other store processes
   * under WORKERS > 1, the admin CLI), ms; past it the transaction fails with SQLITE_BUSY.
   */
  busyTimeoutMs?: number;
  /**
   * Memory-mapped I/O (default 0: off). Mapped pages count in the process's RSS however little of
   * them is hot; with reads through SQLite's own page cache (below) the kernel's page cache keeps
   * the rest, reclaimable (see the README's benchmark notes for what this costs in read speed).
   */
  mmapBytes?: number;
  /**
   * SQLite's page cache per connection, KiB (default 16 MiB; two connections). Pages beyond it
   * are read from the kernel's page cache, which keeps the database file warm without counting
   * in the process's RSS.
   */
  cacheKiB?: number;
  /**
   * The writer's WAL checkpointer (common/sqlite-checkpointer.ts); by default at most one
   * checkpoint per {@link CHECKPOINT_INTERVAL_MS}. Tests lower its start threshold.
   */
  checkpoint?: CheckpointerOptions;
}

export interface SqliteEngine extends Engine {
  readonly file: string;
  /** Commits and transactions so far (transactions / commits = the group-commit batch size). */
  stats(): { commits: number; transactions: number; checkpoints: number };
}

const DEFAULT_BUSY_TIMEOUT_MS = 15_000;
/**
 * The writer's own (blocking) busy timeout: short, so a locked database never freezes the event
 * loop; the wait for the write lock is the asynchronous retry of `beginImmediate`.
 */
const WRITER_BUSY_TIMEOUT_MS = 10;

const DEFAULT_CACHE_KIB = 16_384;

/**
 * The least time from one WAL checkpoint of the store's database to the next (the commits in
 * between are copied back together, each page once, with one fsync of the database file). A
 * checkpoint after every COMMIT copied the pages a Bundle's transaction shares with the next one
 * (index interior pages, the tails of the rid-ordered indexes) once per Bundle, and its fsyncs of
 * `fhir.db` competed with the audit trail's: ingest of 600 patients, alternated twice, 2,619 /
 * 2,408 → 2,761 / 2,591 resources/s, all threads' CPU 593 / 642 → 557 / 594 µs per resource, the
 * gateway's wait for a Bundle's audit record p50 11.7 / 12.8 → 5.8 / 5.9 ms. A lone commit after a
 * quiet spell is still checkpointed at once; durability is the COMMIT's (it syncs the WAL).
 */
const CHECKPOINT_INTERVAL_MS = 500;

/**
 * Where a connection keeps temporary data. The reader sorts and materialises in memory (searches).
 * The writer's statement journals (one per savepoint, as large as the pages a Bundle changes) stay
 * in memory up to 64 KiB and then spill to an unlinked temp file: kept in memory they grew the
 * malloc heap by tens of MB per transaction Bundle, never given back, and cost CPU.
 */
type TempStore = 'MEMORY' | 'FILE';

function open(
  file: string,
  opts: SqliteEngineOptions,
  busyTimeoutMs: number,
  tempStore: TempStore,
): Database.Database {
  const db = new Database(file);
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.sync === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma(`mmap_size = ${opts.mmapBytes ?? 0}`);
  db.pragma(`cache_size = -${opts.cacheKiB ?? DEFAULT_CACHE_KIB}`);
  db.pragma(`temp_store = ${tempStore}`);
  return db;
}

const MIGRATION_TABLE =
  'CREATE TABLE IF NOT EXISTS hearth_migration (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL, statement TEXT NOT NULL)';

/**
 * The SQLite engine (better-sqlite3, WAL). Two connections: a writer that runs the serialised,
 * group-committed transactions, and a reader for queries outside transactions, so a reader never
 * sees a write before its COMMIT. Nothing is cached across statements except prepared statements,
 * so writes by another process (the admin CLI) are seen at once.
 */
export function openSqliteEngine(opts: SqliteEngineOptions): SqliteEngine {
  mkdirSync(path.dirname(path.resolve(opts.file)), { recursive: true });
  const busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const writer = new Connection(open(opts.file, opts, busyTimeoutMs, 'FILE'));
  writer.db.pragma(`busy_timeout = ${Math.min(busyTimeoutMs, WRITER_BUSY_TIMEOUT_MS)}`);
  // WAL readers wait only in rare moments (WAL recovery): the blocking timeout is fine there.
  const reader = new Connection(open(opts.file, opts, busyTimeoutMs, 'MEMORY'));
  const checkpointer = new Checkpointer(writer.db, opts.file, {
    minIntervalMs: CHECKPOINT_INTERVAL_MS,
    ...opts.checkpoint,
  });
  const committer = new GroupCommitter(writer, busyTimeoutMs, checkpointer);
  const read = queryable(reader, () => {
    if (closed) throw new Error('engine is closed');
  });
  let closed = false;

  const transaction = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> =>
    closed ? Promise.reject(new Error('engine is closed')) : committer.submit(fn);

  return {
    dialect: 'sqlite',
    file: opts.file,
    all: <T>(sql: string, params?: readonly SqlValue[], o?: QueryOptions) =>
      read.all<T>(sql, params, o),
    get: <T>(sql: string, params?: readonly SqlValue[], o?: QueryOptions) =>
      read.get<T>(sql, params, o),
    run: (sql: string, params?: readonly SqlValue[]): Promise<RunResult> =>
      transaction((tx) => tx.run(sql, params)),
    transaction,
    async migrate(statements: readonly string[]): Promise<void> {
      await transaction(async (tx) => {
        await tx.run(MIGRATION_TABLE);
        for (const statement of statements) {
          const id = createHash('sha256').update(statement).digest('hex');
          const done = await tx.get('SELECT 1 AS x FROM hearth_migration WHERE id = ?', [id]);
          if (done !== undefined) continue;
          writer.db.exec(statement);
          await tx.run(
            'INSERT INTO hearth_migration (id, applied_at, statement) VALUES (?, ?, ?)',
            [id, Date.now(), statement],
          );
        }
      });
    },
    stats: () => ({
      commits: committer.commits,
      transactions: committer.transactions,
      checkpoints: checkpointer.checkpoints,
    }),
    async close(): Promise<void> {
      if (closed) return;
      await committer.drain();
      closed = true;
      await checkpointer.close();
      try {
        writer.db.pragma('optimize');
      } catch (err) {
        // Another process is writing: its own close (or the next start) refreshes statistics.
        if (!isBusy(err)) throw err;
      } finally {
        reader.db.close();
        writer.db.close();
      }
    },
  };
}
