import Database from 'better-sqlite3';
import type { SqliteSync } from '../../common/config.js';

export type { RecordRow } from './chain.js';
export type { CheckpointRow } from './checkpoint.js';

/**
 * The SQLite audit database (`DATA_DIR/audit.db`): append-only records chained by hash, derived
 * search rows, and signed checkpoints. Triggers refuse UPDATE and DELETE of records and
 * checkpoints, so tampering needs deliberate effort, and `hearth audit verify` detects the rest.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_record (
  seq INTEGER PRIMARY KEY,
  recorded TEXT NOT NULL,
  event TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_ref (
  seq INTEGER NOT NULL,
  param TEXT NOT NULL,
  value TEXT NOT NULL,
  span INTEGER NOT NULL DEFAULT 0,
  ver TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_ref_lookup ON audit_ref (param, value, seq);
CREATE INDEX IF NOT EXISTS audit_record_recorded ON audit_record (recorded);
CREATE TABLE IF NOT EXISTS audit_checkpoint (
  id INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  created TEXT NOT NULL,
  key_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  signature TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_record_no_update BEFORE UPDATE ON audit_record
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_record_no_delete BEFORE DELETE ON audit_record
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
`;

export type AuditDb = Database.Database;

export function openAuditDb(file: string, sync: SqliteSync, readonly = false): AuditDb {
  const db = new Database(file, readonly ? { readonly: true, fileMustExist: true } : {});
  db.pragma('busy_timeout = 5000');
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
    db.exec(SCHEMA);
    addColumns(db);
  }
  return db;
}

/** Search-row columns added since the first schema, with the value that keeps old rows' meaning. */
const ADDED_COLUMNS = [
  // Rows covering runs of records: 0 (one record per row).
  ['span', 'INTEGER NOT NULL DEFAULT 0'],
  // Entity versions apart from the reference: '' (old rows kept versioned references whole).
  ['ver', "TEXT NOT NULL DEFAULT ''"],
] as const;

/**
 * A trail written by an earlier version gets the search-row columns it lacks. Under the write
 * lock: processes opening it at once add each once.
 */
function addColumns(db: AuditDb): void {
  const missing = (): (typeof ADDED_COLUMNS)[number][] => {
    const have = new Set(
      db
        .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('audit_ref')")
        .all()
        .map((c) => c.name),
    );
    return ADDED_COLUMNS.filter(([name]) => !have.has(name));
  };
  if (missing().length === 0) return;
  db.transaction(() => {
    for (const [name, type] of missing()) {
      db.exec(`ALTER TABLE audit_ref ADD COLUMN ${name} ${type}`);
    }
  }).immediate();
}
