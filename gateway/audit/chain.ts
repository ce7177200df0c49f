import { createHash } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import { canonicalJson, canonicalJsonShared } from './canonical-json.js';
import { entryEvents, type AuditEntry } from './entries.js';
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

/**
 * One stored search row: `param = value` holds for records `seq` … `seq + span`. Consecutive
 * records that share a value (the events of one search, one per disclosed patient, name the same
 * page of resources; consecutive requests of one client share agent, action and type) share one
 * row instead of one each.
 */
export interface RefRow extends AuditRef {
  seq: number;
  span: number;
}

export interface ChainedBatch {
  records: RecordRow[];
  refs: RefRow[];
  head: ChainHead;
}

/**
 * Collects the search rows of consecutive records: a value that the previous record also had
 * extends that record's row, any other value starts a row of its own.
 *
 * A transaction may continue the runs of the one before it (`carried`: that transaction's last
 * record's rows, as `open()` left them). A carried row that grows is listed in `extended`: it is
 * already stored, so its new span is an UPDATE of the row, which touches no index entry (the
 * index is on param, value and seq), instead of a new entry in a scattered leaf of the index.
 */
export class RefSpans {
  /** The rows this transaction inserts. */
  readonly rows: RefRow[] = [];
  /** Rows of an earlier transaction whose span grew (stored already: update them). */
  readonly extended = new Set<RefRow>();
  private readonly carried: ReadonlySet<RefRow>;
  /** The previous record's rows, by param, value and version. */
  private last: Map<string, RefRow>;

  constructor(carried?: ReadonlyMap<string, RefRow>) {
    this.last = new Map(carried);
    this.carried = new Set(carried?.values());
  }

  add(seq: number, refs: readonly AuditRef[]): void {
    const next = new Map<string, RefRow>();
    for (const r of refs) {
      const key = `${r.param} ${r.ver} ${r.value}`;
      let row = this.last.get(key);
      if (row !== undefined && row.seq + row.span === seq - 1) {
        row.span += 1;
        if (this.carried.has(row)) this.extended.add(row);
      } else {
        row = { seq, span: 0, param: r.param, value: r.value, ver: r.ver };
        this.rows.push(row);
      }
      next.set(key, row);
    }
    this.last = next;
  }

  /** The last record's rows: what the next transaction may continue. */
  open(): ReadonlyMap<string, RefRow> {
    return this.last;
  }
}

/**
 * Chains `entries` after `head` (their search rows go to `refs`, which a transaction of several
 * batches shares, so runs continue across them): each event (a REST record stands for its events) gets the next
 * `seq` as its id, a `recorded` time when it has none, its canonical JSON, and its hash. Pure: both
 * stores call it inside their write transaction, after reading the true head under the chain lock.
 * Parts the events share (those of one request) are written and indexed once.
 */
export function chainEvents(
  head: ChainHead,
  entries: readonly AuditEntry[],
  refs = new RefSpans(),
): ChainedBatch {
  const records: RecordRow[] = [];
  let prev = head;
  for (const entry of entries) {
    const events = entryEvents(entry);
    // One request's events share their parts; a lone event is written faster whole.
    const shared =
      events.length > 1
        ? {
            texts: new WeakMap<object, string>(),
            index: new WeakMap<object, readonly AuditRef[]>(),
          }
        : undefined;
    for (const event of events) {
      const seq = prev.seq + 1;
      const stored = withId(event, String(seq));
      if (stored.recorded === '') stored.recorded = new Date().toISOString();
      const text =
        shared === undefined ? canonicalJson(stored) : canonicalJsonShared(stored, shared.texts);
      const hash = recordHash(seq, prev.hash, text);
      records.push({ seq, recorded: stored.recorded, event: text, prev_hash: prev.hash, hash });
      refs.add(seq, indexValues(stored, shared?.index));
      prev = { seq, hash };
    }
  }
  return { records, refs: refs.rows, head: prev };
}

/** One batch of a transaction that chains several (`chainGroups`): what its caller is answered. */
export interface ChainedGroup {
  /** Its records' canonical JSON, in order. */
  lines: string[];
  /** The head after its last record. */
  head: ChainHead;
}

/**
 * Chains several batches after `head`, in order, as one transaction stores them: one list of
 * records, one set of search rows (`refs`, whose runs continue across the batches), and what each
 * batch's caller is answered.
 */
export function chainGroups(
  head: ChainHead,
  groups: readonly (readonly AuditEntry[])[],
  refs = new RefSpans(),
): { records: RecordRow[]; refs: RefRow[]; groups: ChainedGroup[]; head: ChainHead } {
  const records: RecordRow[] = [];
  let at = head;
  const chained = groups.map((entries): ChainedGroup => {
    const batch = chainEvents(at, entries, refs);
    for (const r of batch.records) records.push(r);
    at = batch.head;
    return { lines: batch.records.map((r) => r.event), head: at };
  });
  return { records, refs: refs.rows, groups: chained, head: at };
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

/** The search rows of already stored records, in order (a copied chain rebuilds them). */
export function refsOf(rows: readonly RecordRow[]): RefRow[] {
  const refs = new RefSpans();
  for (const row of rows) refs.add(row.seq, indexValues(JSON.parse(row.event) as AuditEvent));
  return refs.rows;
}
