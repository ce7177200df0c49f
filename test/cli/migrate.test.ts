import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import supertest from 'supertest';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { loadConfig, type Config } from '../../common/config.js';
import { createLogger } from '../../common/logger.js';
import { demoBundles } from '../../demo/index.js';
import { adminAuditEvent, AuditTrail, openAuditStore } from '../../gateway/index.js';
import {
  copyTable,
  createStore,
  openEngine,
  searchSchema,
  storeIndexer,
  storeSchema,
  storeSearch,
  type Engine,
} from '../../store/server.js';
import { freshSchema, TEST_POSTGRES_URL, type TestSchema } from '../support/postgres.js';

const FHIR = 'application/fhir+json';
const log = createLogger('silent', 'migrate-test');

interface Running {
  engine: Engine;
  server: Server;
  api: ReturnType<typeof supertest>;
  close(): Promise<void>;
}

/** The built-in store (with search) on `config`'s STORE_URL, over real HTTP. */
async function startStore(config: Config): Promise<Running> {
  const engine = openEngine(config);
  const store = await createStore({
    config,
    engine,
    indexer: storeIndexer(),
    search: storeSearch(config),
    log,
  });
  const server = store.server();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    engine,
    server,
    api: supertest(server),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      await engine.close();
    },
  };
}

function hearth(env: Record<string, string>, args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
  });
}

interface Row {
  [column: string]: unknown;
}

async function rows(engine: Engine, sql: string): Promise<Row[]> {
  return (await engine.all<Row>(sql)).map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]),
    ),
  );
}

/** The decimal-precision probe: stored text must survive byte for byte. */
const DECIMALS =
  '{"resourceType":"Observation","id":"dec","status":"final","code":{"text":"precision"},"valueQuantity":{"value":1.50,"unit":"mg"},"component":[{"code":{"text":"small"},"valueQuantity":{"value":0.000100}}]}';

describe('hearth migrate --from sqlite: --to postgres://', function () {
  this.timeout(180_000);
  let dir: string;
  let target: TestSchema;
  let sourceConfig: Config;
  let auditBefore: number;
  let patientId: string;
  let doomedId: string;
  let migrated: ReturnType<typeof hearth>;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-migrate-'));
    target = freshSchema();
    sourceConfig = loadConfig({
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      PUBLIC_URL: 'http://fhir.test',
      SQLITE_SYNC: 'normal',
    });
    // Generated demo patients, through the store's own write path (indexes, history).
    const source = await startStore(sourceConfig);
    try {
      for (const b of demoBundles({ patients: 3, seed: 'migrate' }) as Iterable<Bundle>) {
        const res = await source.api.post('/fhir').set('content-type', FHIR).send(b);
        assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
      }
      const put = () =>
        source.api.put('/fhir/Observation/dec').set('content-type', FHIR).send(DECIMALS);
      assert.equal((await put()).status, 201);
      assert.equal((await put()).status, 200);
      const patients = await source.api.get('/fhir/Patient?_count=1');
      patientId = (patients.body as { entry: { resource: Patient }[] }).entry[0]?.resource.id ?? '';
      const doomed = await source.api
        .post('/fhir/Basic')
        .set('content-type', FHIR)
        .send({ resourceType: 'Basic', code: { text: 'to delete' } });
      doomedId = (doomed.body as { id: string }).id;
      assert.ok([200, 204].includes((await source.api.delete(`/fhir/Basic/${doomedId}`)).status));
    } finally {
      await source.close();
    }
    // An audit trail with records and checkpoints (every 40 records).
    const trail = new AuditTrail({ dataDir: dir, sync: 'normal', log, checkpointEvery: 40 });
    for (let i = 0; i < 5; i++) {
      await Promise.all(
        Array.from({ length: 30 }, (_, j) =>
          trail.record(
            adminAuditEvent({
              activity: 'seed',
              action: 'C',
              success: true,
              site: 'http://fhir.test/fhir',
              what: [`Basic/${i}-${j}`],
            }),
          ),
        ),
      );
    }
    await trail.close();
    auditBefore = 150;
    migrated = hearth({ DATA_DIR: dir }, [
      '--json',
      'migrate',
      '--from',
      `sqlite:${dir}`,
      '--to',
      target.url,
    ]);
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${target.schema}_audit" CASCADE`);
    await c.end();
    await target.drop();
  });

  it('copies everything and reports what it copied, the audit chain verified', () => {
    assert.equal(migrated.status, 0, migrated.stderr);
    const out = JSON.parse(migrated.stdout) as {
      store: { resources: number; versions: number; indexed: number };
      audit: { records: number; checkpoints: number; verified: boolean };
    };
    assert.ok(out.store.resources > 100, JSON.stringify(out));
    assert.ok(out.store.versions > out.store.resources);
    assert.equal(out.store.indexed, out.store.resources - 1, 'every live resource indexed');
    assert.equal(out.audit.records, auditBefore);
    assert.ok(out.audit.checkpoints >= 3);
    assert.equal(out.audit.verified, true);
  });

  it('keeps every resource and every version identical: ids, versionIds, times, bytes', async () => {
    const from = openEngine(sourceConfig);
    const to = openEngine({ ...sourceConfig, storeUrl: target.url });
    try {
      for (const sql of [
        'SELECT rid, type, id, version, last_updated, deleted, json FROM resource ORDER BY rid',
        'SELECT hid, rid, type, id, version, last_updated, method, json FROM history ORDER BY hid',
      ]) {
        const [a, b] = [await rows(from, sql), await rows(to, sql)];
        assert.ok(a.length > 0);
        assert.deepEqual(b, a);
      }
    } finally {
      await Promise.all([from.close(), to.close()]);
    }
  });

  it('serves the migrated data from PostgreSQL: reads keep decimal precision, history, search', async () => {
    const source = await startStore(sourceConfig);
    const pgStore = await startStore(
      loadConfig({
        DATA_DIR: dir,
        LOG_LEVEL: 'silent',
        PUBLIC_URL: 'http://fhir.test',
        STORE_URL: target.url,
      }),
    );
    try {
      const read = await pgStore.api.get('/fhir/Observation/dec').buffer(true);
      assert.equal(read.status, 200);
      assert.match(read.text, /"value":1\.50\b/);
      assert.match(read.text, /"value":0\.000100\b/);
      assert.equal((read.body as { meta: { versionId: string } }).meta.versionId, '2');
      const history = await pgStore.api.get('/fhir/Observation/dec/_history');
      assert.deepEqual(
        (history.body as { entry: { resource: { meta: { versionId: string } } }[] }).entry.map(
          (e) => e.resource.meta.versionId,
        ),
        ['2', '1'],
      );
      for (const query of [
        `/fhir/Observation?subject=Patient/${patientId}&_summary=count`,
        '/fhir/Patient?gender=female&_summary=count',
        '/fhir/Observation?code=http://loinc.org|8867-4&_summary=count',
        `/fhir/Patient/${patientId}/$everything?_count=1000`,
        `/fhir/Basic/${doomedId}/_history`,
      ]) {
        const [a, b] = [await source.api.get(query), await pgStore.api.get(query)];
        assert.equal(b.status, 200, `${query}: ${JSON.stringify(b.body).slice(0, 300)}`);
        const size = (r: typeof a) => {
          const bundle = r.body as { total?: number; entry?: unknown[] };
          return bundle.total ?? bundle.entry?.length ?? 0;
        };
        assert.ok(size(a) > 0, `${query} finds something on the source`);
        assert.equal(size(b), size(a), query);
      }
      assert.equal((await pgStore.api.get(`/fhir/Basic/${doomedId}`)).status, 410);
      const observations = await pgStore.api.get(
        `/fhir/Observation?subject=Patient/${patientId}&_summary=count`,
      );
      assert.ok((observations.body as { total: number }).total > 0, 'search finds migrated data');
    } finally {
      await Promise.all([source.close(), pgStore.close()]);
    }
  });

  it('hearth audit verify passes on the PostgreSQL target', () => {
    const r = hearth({ DATA_DIR: dir, STORE_URL: target.url }, ['--json', 'audit', 'verify']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { ok: boolean; records: number };
    assert.equal(out.ok, true);
    assert.ok(out.records >= auditBefore);
  });

  it('migrates back from PostgreSQL into a fresh SQLite DATA_DIR, identical and verifying', async () => {
    const back = path.join(dir, 'back');
    const r = hearth({ DATA_DIR: dir }, [
      '--json',
      'migrate',
      '--from',
      target.url,
      '--to',
      `sqlite:${back}`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const from = openEngine(sourceConfig);
    const to = openEngine({ ...sourceConfig, storeUrl: `sqlite:${path.join(back, 'fhir.db')}` });
    try {
      for (const sql of [
        'SELECT rid, type, id, version, last_updated, deleted, json FROM resource ORDER BY rid',
        'SELECT hid, rid, type, id, version, last_updated, method, json FROM history ORDER BY hid',
      ]) {
        assert.deepEqual(await rows(to, sql), await rows(from, sql));
      }
    } finally {
      await Promise.all([from.close(), to.close()]);
    }
    const verify = hearth({ DATA_DIR: back }, ['--json', 'audit', 'verify']);
    assert.equal(verify.status, 0, verify.stderr);
    assert.ok((JSON.parse(verify.stdout) as { records: number }).records >= auditBefore);
  });

  it('refuses a target that already holds data, naming it', () => {
    const r = hearth({ DATA_DIR: dir }, ['migrate', '--from', `sqlite:${dir}`, '--to', target.url]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /already holds a store/);
  });

  it('--resume on a complete copy adds nothing and still verifies', () => {
    const r = hearth({ DATA_DIR: dir }, [
      '--json',
      'migrate',
      '--resume',
      '--from',
      `sqlite:${dir}`,
      '--to',
      target.url,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { audit: { verified: boolean; records: number } };
    assert.equal(out.audit.verified, true);
  });

  it('--resume finishes a migrate interrupted part-way through the store and the audit trail', async () => {
    const partial = freshSchema();
    const partialConfig = { ...sourceConfig, storeUrl: partial.url };
    try {
      // What an interrupted run leaves: the first committed batches of each table and of the chain.
      const from = openEngine(sourceConfig);
      const to = openEngine(partialConfig);
      await to.migrate([...storeSchema(to.dialect), ...searchSchema(to.dialect)]);
      const interrupt = () => {
        throw new Error('interrupted');
      };
      for (const t of [
        {
          table: 'resource',
          key: 'rid',
          columns: ['rid', 'type', 'id', 'version', 'last_updated', 'deleted', 'json'],
        },
        {
          table: 'history',
          key: 'hid',
          columns: ['hid', 'rid', 'type', 'id', 'version', 'last_updated', 'method', 'json'],
        },
      ]) {
        await assert.rejects(
          copyTable(from, to, { ...t, batchSize: 50, onBatch: interrupt }),
          /interrupted/,
        );
      }
      await Promise.all([from.close(), to.close()]);
      const auditFrom = openAuditStore({ dataDir: dir, sync: 'normal', readonly: true });
      const auditTo = openAuditStore({ dataDir: dir, sync: 'normal', storeUrl: partial.url });
      const key = await auditFrom.exportKey();
      if (key !== undefined) await auditTo.adoptKey(key);
      await auditTo.importRecords(await auditFrom.records(0, 60));
      await Promise.all([auditFrom.close(), auditTo.close()]);

      const args = ['--json', 'migrate', '--from', `sqlite:${dir}`, '--to', partial.url];
      const refused = hearth({ DATA_DIR: dir }, args);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /--resume/);
      const resumed = hearth({ DATA_DIR: dir }, [...args, '--resume']);
      assert.equal(resumed.status, 0, resumed.stderr);
      const out = JSON.parse(resumed.stdout) as { audit: { records: number; verified: boolean } };
      assert.equal(out.audit.verified, true);
      assert.ok(out.audit.records >= auditBefore);
      const a = openEngine(sourceConfig);
      const b = openEngine(partialConfig);
      try {
        for (const sql of [
          'SELECT rid, type, id, version, last_updated, deleted, json FROM resource ORDER BY rid',
          'SELECT hid, rid, type, id, version, last_updated, method, json FROM history ORDER BY hid',
        ]) {
          assert.deepEqual(await rows(b, sql), await rows(a, sql));
        }
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    } finally {
      const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${partial.schema}_audit" CASCADE`);
      await c.end();
      await partial.drop();
    }
  });

  it('refuses bad endpoints clearly', () => {
    const r = hearth({ DATA_DIR: dir }, ['migrate', '--from', 'mysql://x', '--to', target.url]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /expected sqlite:<DATA_DIR or file> or postgres:\/\//);
    const missing = hearth({ DATA_DIR: dir }, [
      'migrate',
      '--from',
      `sqlite:${path.join(dir, 'nowhere')}`,
      '--to',
      freshSchema().url,
    ]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no store at/);
  });
});
