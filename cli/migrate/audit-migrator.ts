import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  AUDIT_DB_FILE,
  openAuditStore,
  verifyAudit,
  type AuditStore,
} from '../../gateway/index.js';
import { CliError } from '../output.js';
import type { MigrateEndpoint } from './endpoint.js';
import type { Migrator } from './migrator.js';

/** Records per batch (one transaction on the target each). */
const BATCH = 1000;

function open(side: MigrateEndpoint, readonly: boolean): AuditStore {
  return openAuditStore({
    dataDir: side.config.dataDir,
    sync: side.config.sqliteSync,
    storeUrl: side.config.storeUrl,
    readonly,
  });
}

/** The source's trail, or undefined when a SQLite source has none (nothing was ever audited). */
function openSource(from: MigrateEndpoint): AuditStore | undefined {
  if (from.engine === 'sqlite' && !existsSync(path.join(from.config.dataDir, AUDIT_DB_FILE))) {
    return undefined;
  }
  return open(from, from.engine === 'sqlite');
}

async function lastCheckpointId(store: AuditStore): Promise<number> {
  let last = 0;
  for (;;) {
    const rows = await store.checkpoints(last, BATCH);
    const end = rows.at(-1);
    if (end === undefined) return last;
    last = end.id;
    if (rows.length < BATCH) return last;
  }
}

/** Whether `target`'s chain is the beginning of `source`'s (an interrupted copy of it). */
async function isPrefix(source: AuditStore, target: AuditStore): Promise<boolean> {
  const head = await target.head();
  if (head.seq === 0) return true;
  const [mine] = await source.records(head.seq - 1, 1);
  return mine?.seq === head.seq && mine.hash === head.hash;
}

/**
 * The audit trail: the signing key (so the copied checkpoints are the target's own), every record
 * as stored (same seq, hash and text; search rows rebuilt from each event) and every checkpoint;
 * then the whole chain is verified on the target with the target's key.
 */
export const auditMigrator: Migrator = {
  name: 'audit',
  async check(from, to, resume) {
    const source = openSource(from);
    const target = open(to, false);
    try {
      const held = await target.counts();
      if (held.records + held.checkpoints === 0) return;
      if (!resume) {
        throw new CliError(
          `${to.label} already holds an audit trail (${held.records} records, ${target.where}); migrate into a fresh one, or pass --resume to finish an interrupted migrate`,
        );
      }
      if (source === undefined || !(await isPrefix(source, target))) {
        throw new CliError(
          `the audit trail at ${target.where} is not a partial copy of ${from.label}'s; --resume refused`,
        );
      }
      const [theirs, mine] = [await source.exportKey(), await target.exportKey()];
      if (theirs !== undefined && JSON.stringify(theirs) !== JSON.stringify(mine)) {
        throw new CliError(`the audit signing key at ${target.where} differs from ${from.label}'s`);
      }
    } finally {
      await Promise.all([source?.close(), target.close()]);
    }
  },
  async copy(from, to, progress) {
    const source = openSource(from);
    const target = open(to, false);
    try {
      if (source === undefined) return { records: 0, checkpoints: 0, verified: true };
      const key = await source.exportKey();
      if (key !== undefined && (await target.counts()).records === 0) await target.adoptKey(key);
      const total = await source.counts();
      let after = (await target.head()).seq;
      progress.phase('audit records', total.records);
      progress.advance(after);
      for (;;) {
        const rows = await source.records(after, BATCH);
        if (rows.length === 0) break;
        await target.importRecords(rows);
        progress.advance(rows.length);
        after = rows[rows.length - 1]?.seq ?? after;
        if (rows.length < BATCH) break;
      }
      progress.phase('audit checkpoints', total.checkpoints);
      for (let last = await lastCheckpointId(target); ;) {
        const rows = await source.checkpoints(last, BATCH);
        if (rows.length === 0) break;
        await target.importCheckpoints(rows);
        progress.advance(rows.length);
        last = rows[rows.length - 1]?.id ?? last;
      }
      const signer = await target.signingKey(false);
      const verified = await verifyAudit(target, [], signer?.keyId);
      if (!verified.ok) {
        throw new CliError(`the copied audit chain does not verify: ${verified.problem}`);
      }
      return {
        records: verified.records,
        checkpoints: verified.checkpoints,
        head: verified.head,
        verified: true,
      };
    } finally {
      await Promise.all([source?.close(), target.close()]);
    }
  },
};
