import { createHash } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import { canonicalJson } from './canonical-json.js';
import { indexValues, type AuditRef } from './index-values.js';

/** The `prev_hash` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The hash of one audit record: SHA-256 over its sequence number, the previous record's hash and
 * the canonical JSON of the event. Editing, deleting, inserting or reordering a record breaks it.
 */
export function recordHash(seq: number, prevHash: string, canonicalEvent: string): string {
  return createHash('sha256').update(`${seq}\n${prevHash}\n${canonicalEvent}`).digest('hex');
}

/** The last record of the chain (`seq` 0 and the genesis hash when it is empty). */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

/** One stored record, as both engines keep it. */
export interface RecordRow {
  seq: number;
  recorded: string;
  event: string;
  prev_hash: string;
  hash: string;
}

export interface ChainedBatch {
  records: RecordRow[];
  refs: (AuditRef & { seq: number })[];
  head: ChainHead;
}

/**
 * Chains `events` after `head`: each gets the next `seq` as its id, a `recorded` time when it has
 * none, its canonical JSON, and its hash. Pure: both stores call it inside their write transaction,
 * after reading the true head under the chain lock.
 */
export function chainEvents(head: ChainHead, events: readonly AuditEvent[]): ChainedBatch {
  const records: RecordRow[] = [];
  const refs: (AuditRef & { seq: number })[] = [];
  let prev = head;
  for (const event of events) {
    const seq = prev.seq + 1;
    const stored = withId(event, String(seq));
    if (stored.recorded === '') stored.recorded = new Date().toISOString();
    const text = canonicalJson(stored);
    const hash = recordHash(seq, prev.hash, text);
    records.push({ seq, recorded: stored.recorded, event: text, prev_hash: prev.hash, hash });
    for (const ref of indexValues(stored)) refs.push({ ...ref, seq });
    prev = { seq, hash };
  }
  return { records, refs, head: prev };
}

/**
 * A copy of `event` with `id`, placed among the other keys in canonical order (when they are in
 * it, as the gateway builds them), so canonicalJson can write the record natively.
 */
function withId(event: AuditEvent, id: string): AuditEvent {
  const out: Record<string, unknown> = {};
  let placed = false;
  for (const [k, v] of Object.entries(event)) {
    if (k === 'id') continue;
    if (!placed && k > 'id') {
      out.id = id;
      placed = true;
    }
    out[k] = v;
  }
  if (!placed) out.id = id;
  return out as unknown as AuditEvent;
}

/** The search rows of an already stored record (a copied chain rebuilds them from the event). */
export function refsOf(row: RecordRow): (AuditRef & { seq: number })[] {
  return indexValues(JSON.parse(row.event) as AuditEvent).map((r) => ({ ...r, seq: row.seq }));
}
