import type { JsonWebKey } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { AuditDb, CheckpointRow } from './audit-db.js';
import { verifySignature, type CheckpointKey } from './signing-key.js';

/**
 * A signed statement "the audit chain had `seq` records, the last with hash `hash`". Kept outside
 * the server, it lets `hearth audit verify` detect truncation of the tail.
 */
export interface Checkpoint {
  seq: number;
  hash: string;
  created: string;
  keyId: string;
  publicKey: JsonWebKey;
  signature: string;
}

function signedPayload(c: Pick<Checkpoint, 'seq' | 'hash' | 'created' | 'keyId'>): string {
  return canonicalJson({ seq: c.seq, hash: c.hash, created: c.created, keyId: c.keyId });
}

export function checkpointSignatureValid(c: Checkpoint): boolean {
  return verifySignature(c.publicKey, signedPayload(c), c.signature);
}

export function rowToCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    seq: row.seq,
    hash: row.hash,
    created: row.created,
    keyId: row.key_id,
    publicKey: JSON.parse(row.public_key) as JsonWebKey,
    signature: row.signature,
  };
}

/** Signs the current head of the chain and stores the checkpoint; returns it. */
export function writeCheckpoint(db: AuditDb, key: CheckpointKey, now = new Date()): Checkpoint {
  const head = db
    .prepare<[], { seq: number; hash: string }>(
      'SELECT seq, hash FROM audit_record ORDER BY seq DESC LIMIT 1',
    )
    .get() ?? { seq: 0, hash: '' };
  const unsigned = { seq: head.seq, hash: head.hash, created: now.toISOString(), keyId: key.keyId };
  const cp: Checkpoint = {
    ...unsigned,
    publicKey: key.publicJwk,
    signature: key.sign(signedPayload(unsigned)),
  };
  db.prepare(
    'INSERT INTO audit_checkpoint (seq, hash, created, key_id, public_key, signature) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(cp.seq, cp.hash, cp.created, cp.keyId, JSON.stringify(cp.publicKey), cp.signature);
  return cp;
}

export function latestCheckpoint(db: AuditDb): Checkpoint | undefined {
  const row = db
    .prepare<[], CheckpointRow>('SELECT * FROM audit_checkpoint ORDER BY id DESC LIMIT 1')
    .get();
  return row === undefined ? undefined : rowToCheckpoint(row);
}
