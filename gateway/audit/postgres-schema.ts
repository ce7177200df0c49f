/**
 * The PostgreSQL audit schema, applied idempotently on open (under the lock every Hearth migration
 * takes, so concurrent starts are safe). Same tables and columns as the SQLite trail; text columns
 * compare byte-wise (`recorded` is an ISO instant compared as text). Triggers refuse UPDATE, DELETE
 * and TRUNCATE of records and checkpoints. `audit_signing_key` holds the deployment's checkpoint
 * key (one row), shared by every process on the database.
 */
import { GENESIS_HASH } from './chain.js';

/** Bumped with every change below; a schema at this version is left alone on open. */
export const AUDIT_SCHEMA_VERSION = 5;

/** The chain lock every PostgreSQL append takes (an advisory transaction lock, per audit schema). */
export function auditChainLock(schema: string): string {
  return `pg_advisory_xact_lock(hashtext('hearth:audit-chain'), hashtext('${schema}'))`;
}

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
    // Version 4: an append in one statement (one round trip; its implicit transaction commits at
    // once). It takes the chain lock, reads the head (a fresh snapshot, after the lock: a volatile
    // function's statements each take one) and inserts only when the head is the one the batch was
    // chained from; otherwise it inserts nothing and returns the true head to chain from.
    `CREATE OR REPLACE FUNCTION ${s}.audit_append(
       p_seq BIGINT, p_hash TEXT,
       p_seqs BIGINT[], p_recorded TEXT[], p_events JSON, p_prev_hashes TEXT[], p_hashes TEXT[],
       p_ref_seqs BIGINT[], p_ref_spans BIGINT[], p_ref_params TEXT[], p_ref_values TEXT[],
       p_ref_vers TEXT[]
     ) RETURNS TABLE (head_seq BIGINT, head_hash TEXT) LANGUAGE plpgsql VOLATILE AS $$
     DECLARE h_seq BIGINT; h_hash TEXT;
     BEGIN
       PERFORM ${auditChainLock(schema)};
       SELECT a.seq, a.hash INTO h_seq, h_hash FROM ${s}.audit_record a ORDER BY a.seq DESC LIMIT 1;
       h_seq := coalesce(h_seq, 0);
       h_hash := coalesce(h_hash, '${GENESIS_HASH}');
       IF h_seq <> p_seq OR h_hash <> p_hash THEN
         RETURN QUERY SELECT h_seq, h_hash;
         RETURN;
       END IF;
       INSERT INTO ${s}.audit_record (seq, recorded, event, prev_hash, hash)
         SELECT r.seq, r.recorded, e.event, r.prev_hash, r.hash
         FROM unnest(p_seqs, p_recorded, p_prev_hashes, p_hashes)
           WITH ORDINALITY AS r(seq, recorded, prev_hash, hash, n)
         JOIN json_array_elements_text(p_events) WITH ORDINALITY AS e(event, n) ON e.n = r.n;
       INSERT INTO ${s}.audit_ref (seq, span, param, value, ver)
         SELECT * FROM unnest(p_ref_seqs, p_ref_spans, p_ref_params, p_ref_values, p_ref_vers);
     END $$`,
    // Version 5: records' events are compressed with LZ4 instead of pglz (PostgreSQL 14+ built
    // with lz4; elsewhere this does nothing). An event of a Patient read (about 1.9 kB) makes its
    // row pass the 2 kB TOAST threshold, so every record is compressed: at 12 records a commit,
    // PostgreSQL's CPU per commit went 0.45 → 0.37 ms, with the same stored size (841 → 911 bytes).
    // Old records keep pglz; both read back alike.
    `DO $$ BEGIN
       IF current_setting('server_version_num')::int >= 140000 THEN
         EXECUTE 'ALTER TABLE ${s.replace(/'/g, "''")}.audit_record ALTER COLUMN event SET COMPRESSION lz4';
       END IF;
     EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL;
     END $$`,
    ...refuse('audit_record', 'records'),
    ...refuse('audit_checkpoint', 'checkpoints'),
    `CREATE TABLE IF NOT EXISTS ${s}.audit_schema_version (version INTEGER PRIMARY KEY)`,
    `INSERT INTO ${s}.audit_schema_version (version) VALUES (${AUDIT_SCHEMA_VERSION}) ON CONFLICT DO NOTHING`,
  ];
}
