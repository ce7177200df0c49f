import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SqliteSync } from '../../common/config.js';
import { AUTH_SCHEMA } from './schema.js';

export type AuthDb = Database.Database;

/**
 * Opens `DATA_DIR/auth.db` (creating DATA_DIR, mode 0700, and the file, mode 0600). WAL mode lets the
 * CLI change accounts, clients and keys while the server runs; a busy timeout covers brief locks.
 */
export function openAuthDb(dataDir: string, sync: SqliteSync): AuthDb {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'auth.db');
  const db = new Database(file);
  fs.chmodSync(file, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.exec(AUTH_SCHEMA);
  upgrade(db);
  return db;
}

/**
 * Brings an auth.db made by an older Hearth up to the current schema (idempotent; processes opening
 * it at once take turns on the write lock).
 */
function upgrade(db: AuthDb): void {
  const missing = () =>
    !db
      .prepare<[], { name: string }>('PRAGMA table_info(admin_changes)')
      .all()
      .some((c) => c.name === 'emitted');
  if (!missing()) return;
  db.transaction(() => {
    // Changes made before the upgrade were emitted (or are past emitting) by the older server.
    if (missing())
      db.exec('ALTER TABLE admin_changes ADD COLUMN emitted INTEGER NOT NULL DEFAULT 1');
  }).immediate();
}
