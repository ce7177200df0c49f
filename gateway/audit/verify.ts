import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, recordHash } from './chain.js';
import type { AuditDb, CheckpointRow, RecordRow } from './audit-db.js';
import { checkpointSignatureValid, rowToCheckpoint, type Checkpoint } from './checkpoint.js';
import { keyIdOf } from './signing-key.js';

export type VerifyResult =
  | { ok: true; records: number; checkpoints: number; head: string }
  | { ok: false; problem: string; seq?: number };

interface NamedCheckpoint {
  name: string;
  cp: Checkpoint;
}

function walkChain(
  db: AuditDb,
  wanted: Set<number>,
): VerifyResult & { hashes?: Map<number, string> } {
  const hashes = new Map<number, string>();
  let expected = 1;
  let prev = GENESIS_HASH;
  const rows = db.prepare<[], RecordRow>('SELECT * FROM audit_record ORDER BY seq').iterate();
  for (const row of rows) {
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
export function verifyAudit(
  db: AuditDb,
  kept: Checkpoint[] = [],
  trustedKeyId?: string,
): VerifyResult {
  const stored = db
    .prepare<[], CheckpointRow>('SELECT * FROM audit_checkpoint ORDER BY id')
    .all()
    .map((row) => ({ name: `checkpoint ${row.id} (record ${row.seq})`, cp: rowToCheckpoint(row) }));
  const external = kept.map((cp) => ({ name: `kept checkpoint (record ${cp.seq})`, cp }));
  const all: NamedCheckpoint[] = [...stored, ...external];
  const walked = walkChain(db, new Set(all.map((c) => c.cp.seq)));
  if (!walked.ok) return walked;
  const hashes = walked.hashes ?? new Map<number, string>();
  for (const c of all) {
    const problem = checkCheckpoint(c, walked.records, hashes, trustedKeyId);
    if (problem !== undefined) return { ok: false, problem, seq: c.cp.seq };
  }
  return { ok: true, records: walked.records, checkpoints: all.length, head: walked.head };
}
