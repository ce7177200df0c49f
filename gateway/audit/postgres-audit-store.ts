import type { JsonWebKey } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import pg from 'pg';
import type { PoolClient } from 'pg';
import { groupResults, type AppendResult, type AuditStore } from './audit-store.js';
import { AppendThread } from './append-thread.js';
import {
  chainGroups,
  EMPTY_HEAD,
  refsOf,
  type ChainHead,
  type RecordRow,
  type RefRow,
} from './chain.js';
import type { AuditEntry } from './entries.js';
import {
  checkpointValues,
  signCheckpoint,
  type Checkpoint,
  type CheckpointRow,
} from './checkpoint.js';
import { AUDIT_SCHEMA_VERSION, auditChainLock, auditPgSchema } from './postgres-schema.js';
import { auditPgTarget } from './postgres-target.js';
import { auditSearchSql } from './search.js';
import { int8AsNumber, withPgTransaction } from '../../common/postgres-pool.js';
import { keyFromPrivateJwk, newPrivateJwk, type CheckpointKey } from './signing-key.js';

export interface PostgresAuditStoreOptions {
  /** STORE_URL (`postgres://…[?schema=name]`); the trail lives in `<schema>_audit`. */
  storeUrl: string;
  /** Pooled connections (default 4: appends are serialised per process anyway). */
  poolSize?: number;
  /** Errors of idle pooled connections (a server restart). */
  onIdleError?: (err: Error) => void;
  /**
   * Run appends on a writer thread with its own connection (the gateway's trail), so chaining a
   * batch and encoding it for the driver do not take the event loop. Everything else stays here.
   */
  appendThread?: boolean;
  /** With `appendThread`: the thread sends each record's text back (default true). */
  threadLines?: boolean;
}

/** The PostgreSQL store, with the grouped append its writer thread uses. */
export interface PostgresAuditStore extends AuditStore {
  /**
   * Appends each group's events, in order, in ONE transaction, signing the final head with
   * `sign`; one result per group (a checkpoint only in the last).
   */
  appendGroups(
    groups: readonly (readonly AuditEntry[])[],
    sign: CheckpointKey | undefined,
  ): Promise<AppendResult[]>;
}

/** The lock every Hearth migration takes (store/engines/postgres/migrate.ts uses the same). */
const MIGRATE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('hearth:migrate'))";
const HEAD = 'SELECT seq, hash FROM audit_record ORDER BY seq DESC LIMIT 1';

/**
 * A batch as the columns its insert takes: the records' seq, recorded, events (as one JSON array
 * of strings, see insertRows), prev_hash and hash, then the search rows' seq, span, param, value
 * and ver.
 */
function batchValues(records: readonly RecordRow[], refs: readonly RefRow[]): unknown[] {
  return [
    records.map((r) => r.seq),
    records.map((r) => r.recorded),
    JSON.stringify(records.map((r) => r.event)),
    records.map((r) => r.prev_hash),
    records.map((r) => r.hash),
    refs.map((r) => r.seq),
    refs.map((r) => r.span),
    refs.map((r) => r.param),
    refs.map((r) => r.value),
    refs.map((r) => r.ver),
  ];
}

/** `$1, $2, …` for the `?` placeholders of the shared search SQL (which has no `?` literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * The PostgreSQL audit store, in schema `<store schema>_audit` of STORE_URL's database. Every
 * append is one READ COMMITTED transaction that first takes the chain's advisory transaction lock
 * (`pg_advisory_xact_lock(hashtext('hearth:audit-chain'), hashtext(schema))`), then reads the head
 * and inserts the batch and its search rows: every process, and every Hearth on the database,
 * appends to one ordered chain. A batch is chained from the head this store last wrote or saw
 * and sent in one statement (`audit_append`, see postgres-schema.ts), which inserts it only if that
 * is still the head: one round trip and one commit, where BEGIN with the lock and the head read,
 * the insert and COMMIT took three (a bare append of one record with 30 search rows: p50 2.1–2.4
 * → 1.4–1.6 ms, p95 3.4–5.2 → 2.0–2.5 ms on this project's VM). When another writer appended in
 * between, it returns the true head, and the batch is chained again from there. The gateway's
 * trail appends through a writer thread (`appendThread`, postgres-append-worker.ts), which holds a
 * store of its own.
 */
export function openPostgresAuditStore(opts: PostgresAuditStoreOptions): PostgresAuditStore {
  const target = auditPgTarget(opts.storeUrl);
  const schema = target.schema;
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: opts.poolSize ?? 4,
    types: int8AsNumber,
    application_name: 'hearth-audit',
    options: `-c search_path=${schema}`,
  });
  pool.on('error', (err) => opts.onIdleError?.(err));
  const chainLock = `SELECT ${auditChainLock(schema)}`;

  /**
   * One transaction. With `lockChain`, BEGIN, the chain lock and the head read go in one round
   * trip, and `fn` gets the true head (read after the lock, so after every earlier append).
   */
  const inTx = <T>(fn: (c: PoolClient, head: ChainHead) => Promise<T>, lockChain: boolean) =>
    withPgTransaction(
      pool,
      (client, begun) =>
        fn(
          client,
          (Array.isArray(begun) ? (begun.at(-1)?.rows[0] as ChainHead) : undefined) ?? EMPTY_HEAD,
        ),
      lockChain ? `BEGIN; ${chainLock}; ${HEAD}` : 'BEGIN',
    );

  // DDL only when the schema is not yet at this version: re-running it (CREATE OR REPLACE TRIGGER,
  // CREATE INDEX IF NOT EXISTS) takes table locks that would deadlock with a running append.
  const current = async (c: PoolClient): Promise<boolean> =>
    (
      await c.query(
        `SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'audit_schema_version'`,
        [schema],
      )
    ).rowCount !== 0 &&
    (
      await c.query(`SELECT 1 FROM "${schema}".audit_schema_version WHERE version = $1`, [
        AUDIT_SCHEMA_VERSION,
      ])
    ).rowCount !== 0;
  const ready = inTx(async (c) => {
    if (await current(c)) return;
    await c.query(MIGRATE_LOCK);
    if (await current(c)) return;
    for (const statement of auditPgSchema(schema)) await c.query(statement);
  }, false);
  ready.catch(() => undefined);
  const afterReady = async <T>(fn: () => Promise<T>): Promise<T> => {
    await ready;
    return fn();
  };
  const query = <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []) =>
    afterReady(async () => (await pool.query<R>(sql, values)).rows);

  /**
   * Records and their search rows in one statement (one round trip). The events go as one JSON
   * array of strings, which JSON.stringify writes natively, rather than as a text[] that the driver
   * escapes character by character in JavaScript (about 2 ms of the event loop for a search page's
   * 20 events). Prepared once per connection (named): every audited request runs it, and parsing
   * and planning it afresh each time cost PostgreSQL about 0.2 ms.
   */
  const insertRows = async (
    c: PoolClient,
    records: readonly RecordRow[],
    refs: readonly RefRow[],
  ): Promise<void> => {
    if (records.length === 0) return;
    await c.query({
      name: 'hearth_audit_append',
      text: `WITH r AS (
         INSERT INTO audit_record (seq, recorded, event, prev_hash, hash)
         SELECT r.seq, r.recorded, e.event, r.prev_hash, r.hash
         FROM unnest($1::bigint[], $2::text[], $4::text[], $5::text[])
           WITH ORDINALITY AS r(seq, recorded, prev_hash, hash, n)
         JOIN json_array_elements_text($3::json) WITH ORDINALITY AS e(event, n) ON e.n = r.n
       )
       INSERT INTO audit_ref (seq, span, param, value, ver)
       SELECT * FROM unnest($6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::text[])`,
      values: batchValues(records, refs),
    });
  };
  const storeCheckpoint = async (
    c: PoolClient,
    key: CheckpointKey,
    head: ChainHead,
  ): Promise<Checkpoint> => {
    const cp = signCheckpoint(key, head);
    await c.query(
      'INSERT INTO audit_checkpoint (seq, hash, created, key_id, public_key, signature) VALUES ($1, $2, $3, $4, $5, $6)',
      checkpointValues(cp),
    );
    return cp;
  };
  /** The newest head this connection wrote or was told of (heads only grow). */
  let known: ChainHead = EMPTY_HEAD;
  const learn = (head: ChainHead): void => {
    if (head.seq >= known.seq) known = head;
  };
  /**
   * Appends `groups` in one transaction: chained from `known` and sent as one statement, up to
   * three times while other writers move the head, then under the chain lock (at once when a
   * checkpoint is to be signed, in the same transaction).
   */
  const appendGroups = (
    groups: readonly (readonly AuditEntry[])[],
    sign: CheckpointKey | undefined,
  ): Promise<AppendResult[]> =>
    afterReady(async () => {
      if (sign === undefined && groups.some((g) => g.length > 0)) {
        for (let attempt = 0; attempt < 3; attempt++) {
          const from = known;
          const chained = chainGroups(from, groups);
          const { rows } = await pool.query<{ head_seq: number; head_hash: string }>({
            name: 'hearth_audit_append_fn',
            text: 'SELECT head_seq, head_hash FROM audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
            values: [from.seq, from.hash, ...batchValues(chained.records, chained.refs)],
          });
          const moved = rows[0];
          if (moved === undefined) {
            learn(chained.head);
            return groupResults(chained.groups, undefined);
          }
          learn({ seq: moved.head_seq, hash: moved.head_hash });
        }
      }
      const { chained, checkpoint } = await inTx(async (c, head) => {
        const chained = chainGroups(head, groups);
        await insertRows(c, chained.records, chained.refs);
        const checkpoint =
          sign === undefined ? undefined : await storeCheckpoint(c, sign, chained.head);
        return { chained, checkpoint };
      }, true);
      learn(chained.head);
      return groupResults(chained.groups, checkpoint);
    });
  const thread =
    opts.appendThread === true
      ? new AppendThread({
          entry: './postgres-append-worker',
          data: { storeUrl: opts.storeUrl, lines: opts.threadLines ?? true },
        })
      : undefined;

  const storedKey = async (): Promise<JsonWebKey | undefined> => {
    const rows = await query<{ private_jwk: string }>(
      'SELECT private_jwk FROM audit_signing_key WHERE id = 1',
    );
    return rows[0] === undefined ? undefined : (JSON.parse(rows[0].private_jwk) as JsonWebKey);
  };

  return {
    engine: 'postgres',
    where: `PostgreSQL schema ${schema}`,
    pipelined: thread !== undefined,
    async append(entries, sign) {
      if (thread !== undefined) return thread.append(entries, sign !== undefined);
      const [result] = await appendGroups([entries], sign);
      if (result === undefined) throw new Error('audit append produced no result');
      return result;
    },
    appendGroups,
    checkpoint: (key) => afterReady(() => inTx((c, head) => storeCheckpoint(c, key, head), true)),
    head: async () => (await query<ChainHead>(HEAD))[0] ?? EMPTY_HEAD,
    latestCheckpointSeq: async () =>
      (await query<{ seq: number }>('SELECT seq FROM audit_checkpoint ORDER BY id DESC LIMIT 1'))[0]
        ?.seq ?? 0,
    async signingKey(create) {
      const have = await storedKey();
      if (have !== undefined) return keyFromPrivateJwk(have);
      if (!create) return undefined;
      // Concurrent first starts: one insert wins, everyone then reads the winner.
      await query(
        'INSERT INTO audit_signing_key (id, private_jwk, created) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING',
        [JSON.stringify(newPrivateJwk()), new Date().toISOString()],
      );
      const won = await storedKey();
      if (won === undefined) throw new Error('audit signing key could not be stored');
      return keyFromPrivateJwk(won);
    },
    exportKey: storedKey,
    adoptKey: async (jwk) => {
      await query(
        `INSERT INTO audit_signing_key (id, private_jwk, created) VALUES (1, $1, $2)
           ON CONFLICT (id) DO UPDATE SET private_jwk = EXCLUDED.private_jwk, created = EXCLUDED.created`,
        [JSON.stringify(jwk), new Date().toISOString()],
      );
    },
    async search(q) {
      const s = auditSearchSql(q);
      const [count, page] = await Promise.all([
        query<{ n: number }>(numbered(s.count.sql), s.count.params),
        query<{ event: string }>(numbered(s.page.sql), s.page.params),
      ]);
      return {
        total: count[0]?.n ?? 0,
        events: page.map((r) => JSON.parse(r.event) as AuditEvent),
      };
    },
    read: async (seq) => {
      const rows = await query<{ event: string }>('SELECT event FROM audit_record WHERE seq = $1', [
        seq,
      ]);
      return rows[0] === undefined ? undefined : (JSON.parse(rows[0].event) as AuditEvent);
    },
    records: (afterSeq, limit) =>
      query<RecordRow>(
        'SELECT seq, recorded, event, prev_hash, hash FROM audit_record WHERE seq > $1 ORDER BY seq LIMIT $2',
        [afterSeq, limit],
      ),
    checkpoints: (afterId, limit) =>
      query<CheckpointRow>(
        'SELECT id, seq, hash, created, key_id, public_key, signature FROM audit_checkpoint WHERE id > $1 ORDER BY id LIMIT $2',
        [afterId, limit],
      ),
    importRecords: (rows) =>
      afterReady(() =>
        inTx(async (c, head) => {
          if (rows[0] !== undefined && rows[0].seq !== head.seq + 1) {
            throw new Error(`audit records must continue the chain at ${head.seq + 1}`);
          }
          await insertRows(c, rows, refsOf(rows));
        }, true),
      ),
    importCheckpoints: (rows) =>
      afterReady(() =>
        inTx(async (c) => {
          for (const r of rows) {
            await c.query(
              'INSERT INTO audit_checkpoint (id, seq, hash, created, key_id, public_key, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)',
              [r.id, r.seq, r.hash, r.created, r.key_id, r.public_key, r.signature],
            );
          }
          await c.query(
            "SELECT setval(pg_get_serial_sequence('audit_checkpoint', 'id'), max(id)) FROM audit_checkpoint HAVING max(id) IS NOT NULL",
          );
        }, true),
      ),
    counts: async () => {
      const rows = await query<{ records: number; checkpoints: number }>(
        'SELECT (SELECT count(*) FROM audit_record) AS records, (SELECT count(*) FROM audit_checkpoint) AS checkpoints',
      );
      return rows[0] ?? { records: 0, checkpoints: 0 };
    },
    ping: async () => {
      try {
        await query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    close: async () => {
      await thread?.close();
      await ready.catch(() => undefined);
      await pool.end();
    },
  };
}
