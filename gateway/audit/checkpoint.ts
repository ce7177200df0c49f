import type { JsonWebKey } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { ChainHead } from './chain.js';
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

/** One stored checkpoint, as both engines keep it. */
export interface CheckpointRow {
  id: number;
  seq: number;
  hash: string;
  created: string;
  key_id: string;
  public_key: string;
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

/** The columns of a checkpoint row (without `id`), in insert order. */
export function checkpointValues(cp: Checkpoint): [number, string, string, string, string, string] {
  return [cp.seq, cp.hash, cp.created, cp.keyId, JSON.stringify(cp.publicKey), cp.signature];
}

/**
 * Signs `head` (an empty chain is signed as seq 0 with an empty hash). Pure: the stores call it
 * inside the transaction that read the head, so the checkpoint names a record that exists.
 */
export function signCheckpoint(key: CheckpointKey, head: ChainHead, now = new Date()): Checkpoint {
  const hash = head.seq === 0 ? '' : head.hash;
  const unsigned = { seq: head.seq, hash, created: now.toISOString(), keyId: key.keyId };
  return { ...unsigned, publicKey: key.publicJwk, signature: key.sign(signedPayload(unsigned)) };
}
