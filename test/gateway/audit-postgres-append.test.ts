import assert from 'node:assert/strict';
import net from 'node:net';
import pg from 'pg';
import type { AddressInfo } from 'node:net';
import type { AuditStore } from '../../gateway/audit/audit-store.js';
import { openPostgresAuditStore } from '../../gateway/audit/postgres-audit-store.js';
import { verifyAudit } from '../../gateway/audit/verify.js';
import { freshSchema, TEST_POSTGRES_URL, type TestSchema } from '../support/postgres.js';
import { rest } from './support/rest-events.js';

/**
 * A TCP relay in front of PostgreSQL that counts the round trips clients start: simple queries
 * ('Q') and extended-protocol Syncs ('S'), each answered by one ReadyForQuery.
 */
async function countingRelay(): Promise<{
  port: number;
  roundTrips(): number;
  close(): Promise<void>;
}> {
  const target = new URL(TEST_POSTGRES_URL);
  let trips = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        // the startup message has no type byte; every later message has one
        const head = started ? 5 : 4;
        if (pending.length < head) break;
        const length = started ? pending.readInt32BE(1) + 1 : pending.readInt32BE(0);
        if (pending.length < length) break;
        if (started && (pending[0] === 0x51 || pending[0] === 0x53)) trips++;
        started = true;
        pending = pending.subarray(length);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    roundTrips: () => trips,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

describe('PostgreSQL audit append', () => {
  let schema: TestSchema;
  let relay: Awaited<ReturnType<typeof countingRelay>>;
  const stores: AuditStore[] = [];
  const open = (): AuditStore => {
    const url = new URL(schema.url);
    url.port = String(relay.port);
    const store = openPostgresAuditStore({ storeUrl: url.toString() });
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    schema = freshSchema();
    relay = await countingRelay();
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await relay.close();
    await schema.drop();
  });

  it('commits a batch in one round trip while this process holds the head', async () => {
    const store = open();
    await store.append(rest(1), undefined);
    const before = relay.roundTrips();
    const result = await store.append(rest(2), undefined);
    assert.equal(relay.roundTrips() - before, 1);
    assert.equal(result.head.seq, 2);
    const verified = await verifyAudit(store, []);
    assert.equal(verified.ok, true);
    assert.equal(verified.records, 2);
  });

  it('chains from the true head when another writer appended meanwhile, in two round trips', async () => {
    const a = open();
    const b = open();
    await a.append(rest(1), undefined);
    await b.append(rest(2), undefined);
    const before = relay.roundTrips();
    // a's head (seq 1) is stale: told the true one, it chains its batch again from seq 2
    const result = await a.append(rest(3), undefined);
    assert.equal(relay.roundTrips() - before, 2);
    assert.equal(result.head.seq, 3);
    await b.append(rest(4), undefined);
    await Promise.all([a.append(rest(5), undefined), b.append(rest(6), undefined)]);
    const verified = await verifyAudit(a, []);
    assert.equal(verified.ok, true, JSON.stringify(verified));
    assert.equal(verified.records, 6);
    assert.equal((await b.head()).seq, 6);
  });

  it('stores events compressed with LZ4, not pglz, where the server has it (PostgreSQL 14+ with lz4)', async () => {
    const store = open();
    // an event of about 2 kB: with its hashes the row passes the 2 kB TOAST threshold
    await store.append(rest(1, ['Patient/a']), undefined);
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    try {
      const server = await client.query<{ v: number; lz4: boolean }>(
        `SELECT current_setting('server_version_num')::int AS v,
                EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'
                        AND 'lz4' = ANY (enumvals)) AS lz4`,
      );
      const { v, lz4 } = server.rows[0] ?? { v: 0, lz4: false };
      const stored = await client.query<{ method: string | null; len: number }>(
        `SELECT pg_column_compression(event) AS method, octet_length(event) AS len
           FROM "${schema.schema}_audit".audit_record ORDER BY octet_length(event) DESC LIMIT 1`,
      );
      const row = stored.rows[0];
      assert.ok(row !== undefined && row.len > 1900, `event of ${row?.len ?? 0} bytes`);
      assert.equal(row.method, v >= 140000 && lz4 ? 'lz4' : 'pglz');
    } finally {
      await client.end();
    }
    assert.equal((await verifyAudit(store, [])).ok, true);
  });
});
