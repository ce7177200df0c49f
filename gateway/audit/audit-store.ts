import type { JsonWebKey } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { AuditEntry } from './entries.js';
import type { ChainedGroup, ChainHead, RecordRow } from './chain.js';
import type { Checkpoint, CheckpointRow } from './checkpoint.js';
import type { AuditPage, AuditQuery } from './search.js';
import type { CheckpointKey } from './signing-key.js';

export interface AppendResult {
  /** Records stored. */
  records: number;
  /**
   * The canonical JSON of each stored record, in order (for AUDIT_NDJSON); empty from a SQLite
   * writer thread opened without `threadLines` (nobody reads them, and copying them between
   * threads costs the event loop).
   */
  lines: string[];
  head: ChainHead;
  /** The checkpoint written in the same transaction, when one was asked for. */
  checkpoint: Checkpoint | undefined;
}

/** What the appends of one transaction answer (`checkpoint`, signed in it, goes to the last). */
export function groupResults(
  groups: readonly ChainedGroup[],
  checkpoint: Checkpoint | undefined,
): AppendResult[] {
  return groups.map((g, i) => ({
    records: g.lines.length,
    lines: g.lines,
    head: g.head,
    checkpoint: i === groups.length - 1 ? checkpoint : undefined,
  }));
}

/**
 * Where the audit trail lives: the port with a SQLite (`DATA_DIR/audit.db`) and a PostgreSQL
 * (`<schema>_audit`) implementation, so the trail, verify, search and `hearth migrate` are one
 * code path. Every write is one transaction that holds the chain lock of the database (SQLite:
 * `BEGIN IMMEDIATE`; PostgreSQL: an advisory transaction lock), reads the true head inside it and
 * continues from there, so any number of writers in any number of processes build one chain.
 */
export interface AuditStore {
  readonly engine: 'sqlite' | 'postgres';
  /** A one-line description for logs and CLI output (no credentials). */
  readonly where: string;
  /**
   * Appends may be issued before the earlier ones resolve: they commit in the order they were
   * issued (a writer thread), so the trail hands each batch over at once instead of
   * waiting for the previous commit's answer.
   */
  readonly pipelined?: boolean;

  /**
   * Appends the events of `entries` after the true head; with `sign`, also signs the new head
   * (same commit).
   */
  append(entries: readonly AuditEntry[], sign: CheckpointKey | undefined): Promise<AppendResult>;
  /** Signs the current head and stores the checkpoint. */
  checkpoint(key: CheckpointKey): Promise<Checkpoint>;
  head(): Promise<ChainHead>;
  latestCheckpointSeq(): Promise<number>;

  /** The deployment's checkpoint key; created when missing and `create` (else undefined). */
  signingKey(create: boolean): Promise<CheckpointKey | undefined>;
  /** The private key as stored (for `hearth migrate`). */
  exportKey(): Promise<JsonWebKey | undefined>;
  /** Makes `jwk` this trail's key (`hearth migrate`, onto an empty trail only). */
  adoptKey(jwk: JsonWebKey): Promise<void>;

  search(query: AuditQuery): Promise<AuditPage>;
  read(seq: number): Promise<AuditEvent | undefined>;
  /** Up to `limit` records after `afterSeq`, in order (verify and migrate stream with this). */
  records(afterSeq: number, limit: number): Promise<RecordRow[]>;
  /** Up to `limit` checkpoints after id `afterId`, in order. */
  checkpoints(afterId: number, limit: number): Promise<CheckpointRow[]>;
  /** Copies stored records as they are (search rows rebuilt from each event); one transaction. */
  importRecords(rows: readonly RecordRow[]): Promise<void>;
  /** Copies stored checkpoints as they are (ids kept); one transaction. */
  importCheckpoints(rows: readonly CheckpointRow[]): Promise<void>;
  /** Records and checkpoints held (`hearth migrate` refuses a non-empty target). */
  counts(): Promise<{ records: number; checkpoints: number }>;

  ping(): Promise<boolean>;
  close(): Promise<void>;
}
