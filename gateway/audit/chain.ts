import { createHash } from 'node:crypto';

/** The `prev_hash` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The hash of one audit record: SHA-256 over its sequence number, the previous record's hash and
 * the canonical JSON of the event. Editing, deleting, inserting or reordering a record breaks it.
 */
export function recordHash(seq: number, prevHash: string, canonicalEvent: string): string {
  return createHash('sha256').update(`${seq}\n${prevHash}\n${canonicalEvent}`).digest('hex');
}
