import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { adminAuditEvent } from '../../gateway/audit/events.js';
import { AppendThread } from '../../gateway/audit/append-thread.js';
import { openAuditStore } from '../../gateway/audit/open-audit-store.js';
import { tempDir } from './support/temp.js';

const event = (what: string) =>
  adminAuditEvent({ activity: 'test', action: 'E', success: true, site: 'urn:test', what: [what] });

describe('audit: SQLite writer thread', () => {
  it('answers each batch once it is committed, in order, on one chain', async () => {
    const t = tempDir();
    const thread = new AppendThread({ dataDir: t.dir, sync: 'normal' });
    try {
      const [a, b] = await Promise.all([
        thread.append([event('one'), event('two')], false),
        thread.append([event('three')], false),
      ]);
      assert.equal(a.head.seq, 2);
      assert.equal(b.head.seq, 3);
      const store = openAuditStore({ dataDir: t.dir, sync: 'normal', readonly: true });
      try {
        const rows = await store.records(0, 10);
        assert.deepEqual(
          rows.map((r) => r.prev_hash),
          ['0'.repeat(64), rows[0]?.hash, rows[1]?.hash],
        );
      } finally {
        await store.close();
      }
    } finally {
      await thread.close();
      t.cleanup();
    }
  });

  it('refuses a batch when the thread cannot write the audit database, instead of losing it', async () => {
    const t = tempDir();
    const notADir = path.join(t.dir, 'file');
    writeFileSync(notADir, 'x');
    const thread = new AppendThread({ dataDir: notADir, sync: 'normal' });
    try {
      await assert.rejects(thread.append([event('lost?')], false));
      await assert.rejects(thread.append([event('again')], false));
    } finally {
      await thread.close();
      t.cleanup();
    }
  });
});
