import type { DialectName } from '../engines/engine.js';

/**
 * The store's own tables (versioned through the engine's migrations: statements are applied once,
 * in order). `resource` holds the current version of each resource as the exact JSON text a read
 * sends; `history` every version including deletes (json NULL). Search index tables belong to the
 * Indexer (store/search).
 */
export function storeSchema(dialect: DialectName): string[] {
  const pk = dialect === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY';
  const big = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  // PostgreSQL: byte-wise type/id (sort and keyset order as in SQLite, whatever the locale) and a
  // partial index over live rows, which every search filters on (`deleted = 0`).
  const TEXT = dialect === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
  const live =
    dialect === 'postgres'
      ? [
          'CREATE INDEX IF NOT EXISTS resource_live ON resource (type, last_updated, rid) WHERE deleted = 0',
        ]
      : [];
  return [
    `CREATE TABLE IF NOT EXISTS resource (
      rid ${pk},
      type ${TEXT} NOT NULL,
      id ${TEXT} NOT NULL,
      version INTEGER NOT NULL,
      last_updated ${big} NOT NULL,
      deleted INTEGER NOT NULL DEFAULT 0,
      json TEXT NOT NULL,
      UNIQUE (type, id)
    )`,
    'CREATE INDEX IF NOT EXISTS resource_type_lu ON resource (type, last_updated)',
    `CREATE TABLE IF NOT EXISTS history (
      hid ${pk},
      rid ${big} NOT NULL,
      type ${TEXT} NOT NULL,
      id ${TEXT} NOT NULL,
      version INTEGER NOT NULL,
      last_updated ${big} NOT NULL,
      method TEXT NOT NULL,
      json TEXT,
      UNIQUE (rid, version)
    )`,
    'CREATE INDEX IF NOT EXISTS history_lu ON history (last_updated)',
    'CREATE INDEX IF NOT EXISTS history_type_lu ON history (type, last_updated)',
    ...live,
  ];
}
