import { canonicalJson } from './canonical-json.js';
import type { AuditStore } from './audit-store.js';
import { GENESIS_HASH, recordHash } from './chain.js';
import { checkpointSignatureValid, rowToCheckpoint, type Checkpoint } from './checkpoint.js';
import { keyIdOf } from './signing-key.js';

export type VerifyResult =
  | { ok: true; records: number; checkpoints: number; head: string }
  | { ok: false; problem: string; seq?: number };

interface NamedCheckpoint {
  name: string;
  cp: Checkpoint;
}

/** Records read per query while walking the chain (memory stays flat whatever its length). */
const PAGE = 2000;

type Source = Pick<AuditStore, 'records' | 'checkpoints'>;

async function* allRecords(store: Source) {
  // From below any seq: a record moved to seq 0 or below is reported, not skipped.
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const page = await store.records(after, PAGE);
    yield* page;
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) return;
    after = last.seq;
  }
}

async function walkChain(
  store: Source,
  wanted: Set<number>,
): Promise<VerifyResult & { hashes?: Map<number, string> }> {
  const hashes = new Map<number, string>();
  let expected = 1;
  let prev = GENESIS_HASH;
  for await (const row of allRecords(store)) {
    const seq = row.seq;
    if (seq !== expected) {
      return { ok: false, seq: expected, problem: `record ${expected} is missing (deleted)` };
    }
    let canonical: string;
    try {
      canonical = canonicalJson(JSON.parse(row.event));
    } catch {
      return { ok: false, seq, problem: `record ${seq} is not valid JSON (edited)` };
    }
    if (canonical !== row.event) {
      return { ok: false, seq, problem: `record ${seq} is not in canonical form (edited)` };
    }
    if (row.prev_hash !== prev) {
      return {
        ok: false,
        seq,
        problem: `record ${seq} does not follow record ${seq - 1} (reordered or inserted)`,
      };
    }
    if (recordHash(seq, prev, row.event) !== row.hash) {
      return { ok: false, seq, problem: `record ${seq} does not match its hash (edited)` };
    }
    if (wanted.has(seq)) hashes.set(seq, row.hash);
    prev = row.hash;
    expected += 1;
  }
  return { ok: true, records: expected - 1, checkpoints: 0, head: prev, hashes };
}

function checkCheckpoint(
  { name, cp }: NamedCheckpoint,
  records: number,
  hashes: Map<number, string>,
  trustedKeyId: string | undefined,
): string | undefined {
  if (keyIdOf(cp.publicKey) !== cp.keyId || !checkpointSignatureValid(cp)) {
    return `${name} has an invalid signature`;
  }
  if (trustedKeyId !== undefined && cp.keyId !== trustedKeyId) {
    return `${name} is signed by key ${cp.keyId}, not this server's key ${trustedKeyId}`;
  }
  if (cp.seq === 0) return undefined;
  if (cp.seq > records) {
    return `${name} covers ${cp.seq} records but only ${records} remain (truncated after record ${records})`;
  }
  if (hashes.get(cp.seq) !== cp.hash) {
    return `${name} does not match record ${cp.seq} (the chain was rewritten)`;
  }
  return undefined;
}

/**
 * Verifies the whole audit chain, every stored checkpoint and the `kept` checkpoints an operator
 * holds outside the server. Reports the first problem: the record or checkpoint that is broken.
 */
export async function verifyAudit(
  store: Source,
  kept: Checkpoint[] = [],
  trustedKeyId?: string,
): Promise<VerifyResult> {
  const stored: NamedCheckpoint[] = [];
  for (let after = 0; ;) {
    const rows = await store.checkpoints(after, PAGE);
    for (const row of rows) {
      stored.push({ name: `checkpoint ${row.id} (record ${row.seq})`, cp: rowToCheckpoint(row) });
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE) break;
    after = last.id;
  }
  const external = kept.map((cp) => ({ name: `kept checkpoint (record ${cp.seq})`, cp }));
  const all: NamedCheckpoint[] = [...stored, ...external];
  const walked = await walkChain(store, new Set(all.map((c) => c.cp.seq)));
  if (!walked.ok) return walked;
  const hashes = walked.hashes ?? new Map<number, string>();
  for (const c of all) {
    const problem = checkCheckpoint(c, walked.records, hashes, trustedKeyId);
    if (problem !== undefined) return { ok: false, problem, seq: c.cp.seq };
  }
  return { ok: true, records: walked.records, checkpoints: all.length, head: walked.head };
}
