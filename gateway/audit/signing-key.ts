import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The Ed25519 key that signs audit checkpoints, one per deployment, created on first use: with the
 * SQLite trail in `DATA_DIR/audit-signing-key.json` (mode 0600), with the PostgreSQL trail in the
 * audit schema's `audit_signing_key` row, so every process and every Hearth on that database signs
 * with it. The public half travels inside every checkpoint so an operator can check a kept
 * checkpoint without the data directory or the database.
 */
export interface CheckpointKey {
  /** SHA-256 of the raw public key, base64url: names the key inside checkpoints. */
  keyId: string;
  publicJwk: JsonWebKey;
  sign(data: string): string;
}

export const SIGNING_KEY_FILE = 'audit-signing-key.json';

export function keyIdOf(publicJwk: JsonWebKey): string {
  if (typeof publicJwk.x !== 'string') throw new Error('not an Ed25519 public key');
  return createHash('sha256').update(Buffer.from(publicJwk.x, 'base64url')).digest('base64url');
}

function fromPrivate(privateKey: KeyObject): CheckpointKey {
  const { x } = privateKey.export({ format: 'jwk' });
  if (x === undefined) throw new Error('not an Ed25519 key');
  const publicJwk: JsonWebKey = { kty: 'OKP', crv: 'Ed25519', x };
  return {
    keyId: keyIdOf(publicJwk),
    publicJwk,
    sign: (data) => sign(null, Buffer.from(data, 'utf8'), privateKey).toString('base64url'),
  };
}

/** A fresh Ed25519 private key as a JWK. */
export function newPrivateJwk(): JsonWebKey {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
}

/** The checkpoint key of a stored private JWK. */
export function keyFromPrivateJwk(jwk: JsonWebKey): CheckpointKey {
  return fromPrivate(createPrivateKey({ key: jwk, format: 'jwk' }));
}

/** The private JWK kept in `dataDir`, when there is one (`hearth migrate` carries it across). */
export function readPrivateJwk(dataDir: string): JsonWebKey | undefined {
  const file = path.join(dataDir, SIGNING_KEY_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as JsonWebKey;
}

/** Writes `jwk` as `dataDir`'s key (mode 0600), replacing any. */
export function writePrivateJwk(dataDir: string, jwk: JsonWebKey): void {
  writeFileSync(path.join(dataDir, SIGNING_KEY_FILE), JSON.stringify(jwk), { mode: 0o600 });
}

/** Loads the checkpoint key from `dataDir`, creating it when `create` and it does not exist. */
export function loadCheckpointKey(dataDir: string, create: boolean): CheckpointKey | undefined {
  const file = path.join(dataDir, SIGNING_KEY_FILE);
  if (!existsSync(file)) {
    if (!create) return undefined;
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      writeFileSync(file, JSON.stringify(privateKey.export({ format: 'jwk' })), {
        mode: 0o600,
        flag: 'wx',
      });
      return fromPrivate(privateKey);
    } catch (err) {
      // Another process created it first: use that one.
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
  }
  const jwk = JSON.parse(readFileSync(file, 'utf8')) as JsonWebKey;
  return fromPrivate(createPrivateKey({ key: jwk, format: 'jwk' }));
}

export function verifySignature(publicJwk: JsonWebKey, data: string, signature: string): boolean {
  try {
    const key = createPublicKey({ key: publicJwk, format: 'jwk' });
    return verify(null, Buffer.from(data, 'utf8'), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}
