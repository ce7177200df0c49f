import assert from 'node:assert/strict';
import supertest from 'supertest';
import { loadConfig } from '../../../common/config.js';
import { createLogger } from '../../../common/logger.js';
import { createStore } from '../../../store/create-store.js';
import { copyTable, type Engine } from '../../../store/engines/index.js';
import { noIndexing } from '../../../store/repo/indexer.js';
import { testEngines, type TestDatabase } from '../../support/engines.js';

const TABLES = [
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
];

async function storeOn(engine: Engine) {
  const store = await createStore({
    config: loadConfig({ LOG_LEVEL: 'silent' }),
    engine,
    indexer: noIndexing,
    log: createLogger('silent', 'copy-test'),
  });
  return supertest(store.server());
}

for (const [source, target] of [
  [testEngines[0], testEngines[1]],
  [testEngines[1], testEngines[0]],
] as const) {
  describe(`copyTable ${source?.name} → ${target?.name}`, function () {
    this.timeout(30_000);
    let from: TestDatabase;
    let to: TestDatabase;

    before(() => {
      assert.ok(source !== undefined && target !== undefined);
      from = source.open();
      to = target.open();
    });
    after(async () => {
      await from.cleanup();
      await to.cleanup();
    });

    it('copies every version byte for byte, keeps keys linked, resumes, and lets the target go on', async () => {
      const src = await storeOn(from.engine);
      const ids: string[] = [];
      for (let i = 0; i < 7; i += 1) {
        const c = await src
          .post('/Patient')
          .send({ resourceType: 'Patient', name: [{ family: `Fam-${i}` }], birthDate: '1970' });
        ids.push(c.body.id as string);
      }
      await src
        .put(`/Patient/${ids[0]}`)
        .send({ resourceType: 'Patient', id: ids[0], active: true });
      await src.delete(`/Patient/${ids[1]}`);

      const dst = await storeOn(to.engine);
      let batches = 0;
      for (const t of TABLES) {
        await copyTable(from.engine, to.engine, {
          ...t,
          batchSize: 3,
          onBatch: () => (batches += 1),
        });
      }
      assert.ok(batches >= 5);
      for (const t of TABLES) {
        assert.equal(await copyTable(from.engine, to.engine, t), 0, 'a second run copies nothing');
      }

      for (const id of ids.slice(2)) {
        const [a, b] = await Promise.all([src.get(`/Patient/${id}`), dst.get(`/Patient/${id}`)]);
        assert.equal(b.status, 200);
        assert.equal(b.text, a.text);
      }
      assert.equal((await dst.get(`/Patient/${ids[1]}`)).status, 410);
      const v1 = await dst.get(`/Patient/${ids[0]}/_history/1`);
      assert.equal(v1.status, 200);
      assert.equal((await dst.get(`/Patient/${ids[0]}`)).body.meta.versionId, '2');

      const fresh = await dst.post('/Patient').send({ resourceType: 'Patient' });
      assert.equal(fresh.status, 201);
      const put = await dst.put(`/Patient/${ids[2]}`).send({ resourceType: 'Patient', id: ids[2] });
      assert.equal(put.status, 200);
    });
  });
}
