import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import supertest from 'supertest';
import { loadConfig } from '../../../common/config.js';
import { createLogger } from '../../../common/logger.js';
import { createStore } from '../../../store/create-store.js';
import type { Engine } from '../../../store/engines/engine.js';
import { openPostgresEngine } from '../../../store/engines/postgres/index.js';
import { createSearchProvider, searchIndexer } from '../../../store/search/index.js';
import { freshSchema, type TestSchema } from '../../support/postgres.js';

/**
 * Two store instances ("processes") on one PostgreSQL schema, each with its own pool. Under READ
 * COMMITTED only the store's advisory locks (tx.lockKey) keep the races out; SERIALIZABLE (the
 * default) would also catch them without the locks.
 */
for (const isolation of ['serializable', 'read committed'] as const)
  describe(`two stores on one PostgreSQL database (${isolation})`, function () {
    this.timeout(30_000);
    let target: TestSchema;
    const engines: Engine[] = [];
    const servers: Server[] = [];
    let apis: ReturnType<typeof supertest>[] = [];

    before(async () => {
      target = freshSchema();
      const config = loadConfig({ STORE_URL: target.url, LOG_LEVEL: 'silent' });
      for (let i = 0; i < 2; i += 1) {
        const engine = openPostgresEngine({ url: target.url, isolation });
        engines.push(engine);
        const store = await createStore({
          config,
          engine,
          indexer: searchIndexer,
          search: createSearchProvider(config),
          log: createLogger('silent', `store-${i}`),
        });
        servers.push(store.server());
      }
      apis = servers.map((s) => supertest(s));
    });
    after(async () => {
      for (const s of servers) s.close();
      await Promise.all(engines.map((e) => e.close()));
      await target.drop();
    });

    it('lets exactly one of concurrent If-Match writers on both stores win, with contiguous versions', async () => {
      const [a, b] = apis;
      assert.ok(a !== undefined && b !== undefined);
      await a.put('/Patient/shared').send({ resourceType: 'Patient', id: 'shared' });
      const put = (writer: number, version: number) =>
        (writer % 2 === 0 ? a : b)
          .put('/Patient/shared')
          .set('if-match', `W/"${version}"`)
          .set('prefer', 'return=minimal')
          .send({ resourceType: 'Patient', id: 'shared', name: [{ family: `w${writer}` }] });
      for (let version = 1; version <= 3; version += 1) {
        const results = await Promise.all(Array.from({ length: 12 }, (_, w) => put(w, version)));
        assert.deepEqual(results.map((r) => r.status).sort(), [
          200,
          ...Array.from({ length: 11 }, () => 412),
        ]);
      }
      const read = await b.get('/Patient/shared');
      assert.equal(read.body.meta.versionId, '4');
      const rows = await engines[0]?.all<{ version: number }>(
        "SELECT version FROM history WHERE type = 'Patient' AND id = 'shared' ORDER BY version",
      );
      assert.deepEqual(
        rows?.map((r) => r.version),
        [1, 2, 3, 4],
      );
    });

    it('makes exactly one resource from concurrent conditional creates on both stores', async () => {
      const [a, b] = apis;
      assert.ok(a !== undefined && b !== undefined);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 === 0 ? a : b)
            .post('/Patient')
            .set('if-none-exist', 'identifier=urn:mrn|race-1')
            .send({
              resourceType: 'Patient',
              identifier: [{ system: 'urn:mrn', value: 'race-1' }],
            }),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.status).sort(),
        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201],
      );
      const found = await b.get('/Patient?identifier=urn:mrn|race-1');
      assert.equal(found.body.total ?? found.body.entry?.length, 1);
      const rows = await engines[0]?.all(
        "SELECT id FROM resource WHERE type = 'Patient' AND json LIKE ?",
        ['%race-1%'],
      );
      assert.equal(rows?.length, 1);
    });

    it('serves on one store what the other just wrote', async () => {
      const [a, b] = apis;
      assert.ok(a !== undefined && b !== undefined);
      const created = await a.post('/Observation').send({
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'x' },
      });
      assert.equal(created.status, 201);
      const read = await b.get(`/Observation/${created.body.id as string}`);
      assert.equal(read.status, 200);
      assert.equal(read.text, created.text);
    });

    it('keeps live resources in a partial index and type/id byte-wise', async () => {
      const idx = await engines[0]?.get<{ def: string }>(
        "SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'resource_live' AND schemaname = ?",
        [target.schema],
      );
      assert.match(idx?.def ?? '', /WHERE \(deleted = 0\)/);
      const cols = await engines[0]?.all<{ collation: string }>(
        `SELECT collation_name AS collation FROM information_schema.columns
        WHERE table_schema = ? AND table_name = 'resource' AND column_name IN ('type', 'id')`,
        [target.schema],
      );
      assert.deepEqual(
        cols?.map((c) => c.collation),
        ['C', 'C'],
      );
    });
  });
