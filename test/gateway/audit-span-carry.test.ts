import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import path from 'node:path';
import { refsOf, type RefRow } from '../../gateway/audit/chain.js';
import { restEntry, type AuditEntry } from '../../gateway/audit/entries.js';
import type { RestAuditInput } from '../../gateway/audit/events.js';
import type { CheckpointKey } from '../../gateway/audit/signing-key.js';
import {
  AUDIT_DB_FILE,
  openSqliteAuditStore,
  type SqliteAuditStore,
} from '../../gateway/audit/sqlite-audit-store.js';
import { AuditTrail } from '../../gateway/audit/trail.js';
import { silentLog, tempDir } from './support/temp.js';

/** A client's read of `Patient/{id}`. */
function readInput(client: string, id: string): RestAuditInput {
  return {
    requestId: `${client}-${id}`,
    recorded: new Date(),
    site: 'http://localhost:8080/fhir',
    interaction: 'read',
    action: 'R',
    status: 200,
    principal: { sub: client, clientId: client, fhirUser: undefined },
    clientIp: '127.0.0.1',
    method: 'GET',
    url: `Patient/${id}`,
    isQuery: false,
    entities: [`Patient/${id}`],
    patients: [id],
    customHeaders: {},
  };
}

function read(client: string, id: string): AuditEntry {
  return restEntry(readInput(client, id));
}

/** Every (param, value, ver, seq) a set of search rows stands for, one line each, sorted. */
function covered(rows: readonly Pick<RefRow, 'param' | 'value' | 'ver' | 'seq' | 'span'>[]) {
  const out: string[] = [];
  for (const r of rows) {
    for (let s = r.seq; s <= r.seq + r.span; s++) out.push(`${r.param} ${r.value} ${r.ver} ${s}`);
  }
  return out.sort();
}

/**
 * The SQLite writer continues the previous transaction's runs of search rows (RefSpans' `carried`
 * rows, updated in place): what the rows cover must stay exactly what the records say.
 */
describe('audit search rows continued from one transaction to the next (sqlite)', () => {
  let temp: ReturnType<typeof tempDir>;
  let dir: string;
  beforeEach(() => {
    temp = tempDir();
    dir = temp.dir;
  });
  afterEach(() => {
    temp.cleanup();
  });

  const stored = (): RefRow[] => {
    const db = new Database(path.join(dir, AUDIT_DB_FILE), { readonly: true });
    try {
      return db
        .prepare<[], RefRow>('SELECT seq, span, param, value, ver FROM audit_ref ORDER BY rowid')
        .all();
    } finally {
      db.close();
    }
  };
  /** The stored rows cover exactly what the records' own values do (no record twice, none missed). */
  const assertRowsMatchRecords = async (store: SqliteAuditStore): Promise<void> => {
    const records = await store.records(0, 1_000_000);
    assert.deepEqual(covered(stored()), covered(refsOf(records)));
  };
  const rowsOf = (param: string, value: string): [number, number][] =>
    stored()
      .filter((r) => r.param === param && r.value === value)
      .map((r) => [r.seq, r.span]);

  /** The ids of the records a search finds, newest first. */
  const found = async (
    store: SqliteAuditStore,
    refs: Record<string, string[][]>,
  ): Promise<(string | undefined)[]> =>
    (await store.search({ count: 10, offset: 0, refs })).events.map((e) => e.id);

  it('extends a shared value over single-record transactions instead of adding a row each', async () => {
    const store = openSqliteAuditStore({ dataDir: dir, sync: 'normal' });
    try {
      for (const id of ['a', 'b', 'c', 'd', 'e'])
        store.appendGroups([[read('svc', id)]], undefined);
      assert.deepEqual(rowsOf('action', 'R'), [[1, 4]]);
      assert.deepEqual(rowsOf('agent', 'svc'), [[1, 4]]);
      assert.deepEqual(rowsOf('entity+patient', 'Patient/c'), [[3, 0]]);
      // Five records: one row per distinct patient, one per shared value.
      assert.equal(stored().filter((r) => r.param === 'entity+patient').length, 5);
      assert.equal((await found(store, { action: [['R']] })).length, 5);
      assert.deepEqual(await found(store, { agent: [['svc']] }), ['5', '4', '3', '2', '1']);
      await assertRowsMatchRecords(store);
    } finally {
      await store.close();
    }
  });

  it('starts new rows when another connection appended in between, and each finds only its own', async () => {
    const a = openSqliteAuditStore({ dataDir: dir, sync: 'normal' });
    const b = openSqliteAuditStore({ dataDir: dir, sync: 'normal' });
    try {
      a.appendGroups([[read('one', 'p')]], undefined); // 1
      a.appendGroups([[read('one', 'p')]], undefined); // 2
      b.appendGroups([[read('two', 'p')]], undefined); // 3
      a.appendGroups([[read('one', 'p')]], undefined); // 4
      b.appendGroups([[read('two', 'q')]], undefined); // 5
      b.appendGroups([[read('two', 'q')]], undefined); // 6
      assert.deepEqual(rowsOf('agent', 'one'), [
        [1, 1],
        [4, 0],
      ]);
      assert.deepEqual(rowsOf('agent', 'two'), [
        [3, 0],
        [5, 1],
      ]);
      // Records 1-4 all name Patient/p and R, but over three transactions of two connections.
      assert.deepEqual(covered(stored().filter((r) => r.value === 'Patient/p')).length, 4);
      assert.deepEqual(await found(a, { agent: [['one']] }), ['4', '2', '1']);
      assert.deepEqual(await found(b, { agent: [['two']] }), ['6', '5', '3']);
      await assertRowsMatchRecords(a);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('after a transaction that failed, the rows still match the records', async () => {
    const store = openSqliteAuditStore({ dataDir: dir, sync: 'normal' });
    const broken = {
      keyId: 'k',
      publicJwk: {},
      sign: () => {
        throw new Error('no signing today');
      },
    } as unknown as CheckpointKey;
    try {
      store.appendGroups([[read('svc', 'a')]], undefined);
      store.appendGroups([[read('svc', 'a')]], undefined);
      // Chains and indexes record 3, grows the carried rows, then fails before COMMIT.
      assert.throws(() => store.appendGroups([[read('svc', 'a')]], broken), /no signing today/);
      assert.deepEqual((await store.head()).seq, 2);
      store.appendGroups([[read('svc', 'b')]], undefined);
      store.appendGroups([[read('svc', 'a')]], undefined);
      assert.deepEqual(await found(store, { entity: [['Patient/a']] }), ['4', '2', '1']);
      await assertRowsMatchRecords(store);
    } finally {
      await store.close();
    }
  });

  it('writes a carried row again whole when it was deleted from under the writer', async () => {
    const store = openSqliteAuditStore({ dataDir: dir, sync: 'normal' });
    try {
      store.appendGroups([[read('svc', 'a')]], undefined);
      store.appendGroups([[read('svc', 'b')]], undefined);
      const db = new Database(path.join(dir, AUDIT_DB_FILE));
      db.prepare("DELETE FROM audit_ref WHERE param = 'action'").run();
      db.close();
      store.appendGroups([[read('svc', 'c')]], undefined);
      assert.deepEqual(rowsOf('action', 'R'), [[1, 2]]);
      assert.equal((await found(store, { action: [['R']] })).length, 3);
      await assertRowsMatchRecords(store);
    } finally {
      await store.close();
    }
  });

  it('the gateway writer thread continues runs across its group commits', async () => {
    const trail = new AuditTrail({ dataDir: dir, sync: 'normal', log: silentLog });
    await trail.ready();
    try {
      for (let i = 0; i < 6; i++) {
        await trail.recordRest(readInput('svc', `p${i % 2}`));
      }
    } finally {
      await trail.close();
    }
    assert.deepEqual(rowsOf('action', 'R'), [[1, 5]]);
    const store = openSqliteAuditStore({ dataDir: dir, sync: 'normal', readonly: true });
    try {
      await assertRowsMatchRecords(store);
    } finally {
      await store.close();
    }
  });
});
