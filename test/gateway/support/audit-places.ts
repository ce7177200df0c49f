import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { auditPgTarget } from '../../../gateway/audit/postgres-target.js';
import { AUDIT_DB_FILE } from '../../../gateway/audit/trail.js';
import { freshSchema, TEST_POSTGRES_URL } from '../../support/postgres.js';
import { tempDir } from './temp.js';

/**
 * The places an audit trail lives in the trail tests (SQLite in a temporary DATA_DIR, a fresh
 * PostgreSQL schema), each with an attacker's raw access.
 */

/** One place an audit trail can live, with an attacker's raw access to it. */
export interface Place {
  dir: string;
  /** STORE_URL for this place (undefined: SQLite in `dir`). */
  storeUrl: string | undefined;
  env: Record<string, string>;
  /** Runs SQL on the audit tables as an attacker would: append-only triggers out of the way. */
  tamper(sql: string[]): Promise<void>;
  /** Runs SQL as an ordinary client (triggers in force); a SELECT's rows, else none. */
  sql(text: string): Promise<Record<string, unknown>[]>;
  rows(): Promise<{ seq: number; event: string }[]>;
  cleanup(): Promise<void>;
}

function sqlitePlace(): Place {
  const t = tempDir();
  const file = path.join(t.dir, AUDIT_DB_FILE);
  return {
    dir: t.dir,
    storeUrl: undefined,
    env: {},
    tamper: (sql) => {
      const db = new Database(file);
      db.exec(
        'DROP TRIGGER IF EXISTS audit_record_no_update; DROP TRIGGER IF EXISTS audit_record_no_delete; DROP TRIGGER IF EXISTS audit_checkpoint_no_delete; DROP TRIGGER IF EXISTS audit_checkpoint_no_update;',
      );
      for (const s of sql) db.exec(s);
      db.close();
      return Promise.resolve();
    },
    sql: async (text) => {
      await Promise.resolve();
      const db = new Database(file);
      try {
        if (text.startsWith('SELECT')) return db.prepare(text).all() as Record<string, unknown>[];
        db.exec(text);
        return [];
      } finally {
        db.close();
      }
    },
    rows: () => {
      const db = new Database(file);
      const rows = db
        .prepare<[], { seq: number; event: string }>(
          'SELECT seq, event FROM audit_record ORDER BY seq',
        )
        .all();
      db.close();
      return Promise.resolve(rows);
    },
    cleanup: () => {
      t.cleanup();
      return Promise.resolve();
    },
  };
}

function postgresPlace(): Place {
  const t = tempDir();
  const store = freshSchema();
  const audit = auditPgTarget(store.url).schema;
  const withClient = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await c.connect();
    try {
      await c.query(`SET search_path TO "${audit}"`);
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    dir: t.dir,
    storeUrl: store.url,
    env: { STORE_URL: store.url },
    tamper: (sql) =>
      withClient(async (c) => {
        await c.query('ALTER TABLE audit_record DISABLE TRIGGER USER');
        await c.query('ALTER TABLE audit_checkpoint DISABLE TRIGGER USER');
        for (const s of sql) await c.query(s);
      }),
    sql: (text) => withClient(async (c) => (await c.query<Record<string, unknown>>(text)).rows),
    rows: () =>
      withClient(
        async (c) =>
          (
            await c.query<{ seq: number; event: string }>(
              'SELECT seq::int AS seq, event FROM audit_record ORDER BY seq',
            )
          ).rows,
      ),
    cleanup: async () => {
      t.cleanup();
      await withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${audit}" CASCADE`));
      await store.drop();
    },
  };
}

export const places: { name: string; open: () => Place }[] = [
  { name: 'sqlite', open: sqlitePlace },
  { name: 'postgres', open: postgresPlace },
];
