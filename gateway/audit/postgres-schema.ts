/**
 * The PostgreSQL audit schema, applied idempotently on open (under the lock every Hearth migration
 * takes, so concurrent starts are safe). Same tables and columns as the SQLite trail; text columns
 * compare byte-wise (`recorded` is an ISO instant compared as text). Triggers refuse UPDATE, DELETE
 * and TRUNCATE of records and checkpoints. `audit_signing_key` holds the deployment's checkpoint
 * key (one row), shared by every process on the database.
 */
/** Bumped with every change below; a schema at this version is left alone on open. */
export const AUDIT_SCHEMA_VERSION = 3;

export function auditPgSchema(schema: string): string[] {
  const s = `"${schema}"`;
  const refuse = (table: string, what: string): string[] => [
    `CREATE OR REPLACE TRIGGER ${table}_no_change BEFORE UPDATE OR DELETE ON ${s}.${table}
       FOR EACH ROW EXECUTE FUNCTION ${s}.audit_append_only('${what}')`,
    `CREATE OR REPLACE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${s}.${table}
       FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_append_only('${what}')`,
  ];
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.audit_record (
       seq BIGINT PRIMARY KEY,
       recorded TEXT COLLATE "C" NOT NULL,
       event TEXT NOT NULL,
       prev_hash TEXT NOT NULL,
       hash TEXT NOT NULL
     )`,
    `CREATE TABLE IF NOT EXISTS ${s}.audit_ref (
       seq BIGINT NOT NULL,
       param TEXT COLLATE "C" NOT NULL,
       value TEXT COLLATE "C" NOT NULL
     )`,
    // Version 2: a search row covers records seq … seq + span (0 in rows written before).
    `ALTER TABLE ${s}.audit_ref ADD COLUMN IF NOT EXISTS span BIGINT NOT NULL DEFAULT 0`,
    // Version 3: an entity's version apart from its reference ('' in rows written before, which
    // kept versioned references whole in value).
    `ALTER TABLE ${s}.audit_ref ADD COLUMN IF NOT EXISTS ver TEXT COLLATE "C" NOT NULL DEFAULT ''`,
    `CREATE INDEX IF NOT EXISTS audit_ref_lookup ON ${s}.audit_ref (param, value, seq)`,
    `CREATE INDEX IF NOT EXISTS audit_record_recorded ON ${s}.audit_record (recorded)`,
    `CREATE TABLE IF NOT EXISTS ${s}.audit_checkpoint (
       id BIGSERIAL PRIMARY KEY,
       seq BIGINT NOT NULL,
       hash TEXT NOT NULL,
       created TEXT NOT NULL,
       key_id TEXT NOT NULL,
       public_key TEXT NOT NULL,
       signature TEXT NOT NULL
     )`,
    `CREATE TABLE IF NOT EXISTS ${s}.audit_signing_key (
       id INTEGER PRIMARY KEY CHECK (id = 1),
       private_jwk TEXT NOT NULL,
       created TEXT NOT NULL
     )`,
    `CREATE OR REPLACE FUNCTION ${s}.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'audit % are append-only', TG_ARGV[0]; END $$`,
    ...refuse('audit_record', 'records'),
    ...refuse('audit_checkpoint', 'checkpoints'),
    `CREATE TABLE IF NOT EXISTS ${s}.audit_schema_version (version INTEGER PRIMARY KEY)`,
    `INSERT INTO ${s}.audit_schema_version (version) VALUES (${AUDIT_SCHEMA_VERSION}) ON CONFLICT DO NOTHING`,
  ];
}
