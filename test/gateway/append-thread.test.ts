import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { adminAuditEvent } from '../../gateway/audit/events.js';
import { AppendThread } from '../../gateway/audit/append-thread.js';
import { openAuditStore } from '../../gateway/audit/open-audit-store.js';
import { AUDIT_DB_FILE } from '../../gateway/audit/trail.js';
import { verifyAudit } from '../../gateway/audit/verify.js';
import { freshSchema, TEST_POSTGRES_URL, type TestSchema } from '../support/postgres.js';
import { tempDir } from './support/temp.js';

const event = (what: string) =>
  adminAuditEvent({ activity: 'test', action: 'E', success: true, site: 'urn:test', what: [what] });

/**
 * A long first commit (2,000 events), then 49 one-event batches sent while it runs (they wait on the
 * thread's port): each is answered in the order sent, with its own lines.
 */
async function bigThenSmall(thread: AppendThread): Promise<void> {
  const big = Array.from({ length: 2000 }, (_, i) => event(`big ${i}`));
  const sent = [thread.append(big, false)];
  for (let i = 0; i < 49; i++) sent.push(thread.append([event(`small ${i}`)], false));
  const results = await Promise.all(sent);
  assert.deepEqual(
    results.map((r) => r.head.seq),
    [2000, ...Array.from({ length: 49 }, (_, i) => 2001 + i)],
  );
  assert.deepEqual(
    results.map((r) => r.lines.length),
    [2000, ...Array.from({ length: 49 }, () => 1)],
  );
}

describe('audit: SQLite writer thread', () => {
  it('answers each batch once it is committed, in order, on one chain', async () => {
    const t = tempDir();
    const thread = new AppendThread({
      entry: './sqlite-append-worker',
      data: { dataDir: t.dir, sync: 'normal', lines: true },
    });
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

  it('commits the batches sent while a commit runs together, in the order sent, continuing search-row runs', async () => {
    const t = tempDir();
    const thread = new AppendThread({
      entry: './sqlite-append-worker',
      data: { dataDir: t.dir, sync: 'normal', lines: true },
    });
    try {
      await bigThenSmall(thread);
      const db = new Database(path.join(t.dir, AUDIT_DB_FILE), { readonly: true });
      try {
        // Every event has action E: one search row per transaction (a run cannot span two).
        const rows = db.prepare("SELECT seq, span FROM audit_ref WHERE param = 'action'").all();
        assert.ok(rows.length <= 3, `${rows.length} transactions for 50 batches`);
      } finally {
        db.close();
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
    const thread = new AppendThread({
      entry: './sqlite-append-worker',
      data: { dataDir: notADir, sync: 'normal', lines: true },
    });
    try {
      await assert.rejects(thread.append([event('lost?')], false));
      await assert.rejects(thread.append([event('again')], false));
    } finally {
      await thread.close();
      t.cleanup();
    }
  });

  it('checkpoints the WAL on a thread of its own once it was large, not in a commit it waits for', async () => {
    const t = tempDir();
    const file = path.join(t.dir, AUDIT_DB_FILE);
    const size = () => statSync(file).size;
    const thread = new AppendThread({
      entry: './sqlite-append-worker',
      data: { dataDir: t.dir, sync: 'normal', lines: false },
    });
    const big = (i: number) => event(`${String(i)} ${'x'.repeat(3000)}`);
    try {
      // Past SQLite's 1,000-page threshold: the checkpointer thread takes over.
      for (let i = 0; i < 30; i++)
        await thread.append(
          Array.from({ length: 50 }, (_, j) => big(i * 50 + j)),
          false,
        );
      const before = size();
      // SQLite's own checkpoint would wait for another 1,000 WAL pages; these write ~60.
      for (let i = 0; i < 6; i++)
        await thread.append(
          Array.from({ length: 10 }, (_, j) => big(2000 + i * 10 + j)),
          false,
        );
      const deadline = Date.now() + 5000;
      while (size() < before + 60 * 3000 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.ok(
        size() >= before + 60 * 3000,
        `audit.db ${String(before)} → ${String(size())} bytes`,
      );
      const db = new Database(file, { readonly: true });
      try {
        const n = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM audit_record').get();
        assert.equal(n?.n, 1560);
      } finally {
        db.close();
      }
    } finally {
      await thread.close();
      t.cleanup();
    }
  });
});

describe('audit: PostgreSQL writer thread', () => {
  let schema: TestSchema;
  beforeEach(() => {
    schema = freshSchema();
  });
  afterEach(async () => {
    await schema.drop();
  });

  it('commits the batches sent while a commit runs together, in the order sent, on one verified chain', async () => {
    const thread = new AppendThread({
      entry: './postgres-append-worker',
      data: { storeUrl: schema.url, lines: true },
    });
    const store = openAuditStore({ dataDir: '.', sync: 'normal', storeUrl: schema.url });
    try {
      await bigThenSmall(thread);
      // Every event has action E: one search row per transaction (runs do not cross them here).
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        const rows = await client.query(
          `SELECT seq FROM "${schema.schema}_audit".audit_ref WHERE param = 'action'`,
        );
        assert.ok(rows.rowCount !== null && rows.rowCount <= 3, `${rows.rowCount} transactions`);
      } finally {
        await client.end();
      }
      const verified = await verifyAudit(store, []);
      assert.equal(verified.ok, true, JSON.stringify(verified));
      assert.equal(verified.records, 2049);
    } finally {
      await thread.close();
      await store.close();
    }
  });

  it('signs a checkpoint in the commit that asks for one, with the key stored in the database', async () => {
    const store = openAuditStore({ dataDir: '.', sync: 'normal', storeUrl: schema.url });
    const thread = new AppendThread({
      entry: './postgres-append-worker',
      data: { storeUrl: schema.url, lines: false },
    });
    try {
      const key = await store.signingKey(true);
      const [plain, signed] = await Promise.all([
        thread.append([event('one')], false),
        thread.append([event('two')], true),
      ]);
      assert.equal(plain.checkpoint, undefined);
      assert.equal(signed.checkpoint?.seq, 2);
      assert.equal(signed.checkpoint.keyId, key?.keyId);
      assert.deepEqual(signed.lines, []);
      assert.equal(await store.latestCheckpointSeq(), 2);
      assert.equal((await verifyAudit(store, [])).ok, true);
    } finally {
      await thread.close();
      await store.close();
    }
  });

  it('refuses a batch when the thread cannot reach the database, instead of losing it', async () => {
    const url = new URL(schema.url);
    url.port = '1';
    const thread = new AppendThread({
      entry: './postgres-append-worker',
      data: { storeUrl: url.toString(), lines: true },
    });
    try {
      await assert.rejects(thread.append([event('lost?')], false));
    } finally {
      await thread.close();
    }
  });
});
