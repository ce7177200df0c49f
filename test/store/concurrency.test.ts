import assert from 'node:assert/strict';
import { describeOnEngines } from '../support/engines.js';
import { testStore, type TestStore } from './helpers.js';

describeOnEngines('store REST: concurrent writers', function (engine) {
  this.timeout(30_000);
  let t: TestStore;
  before(async () => {
    t = await testStore({}, {}, engine);
  });
  after(async () => {
    await t.close();
  });

  it('lets exactly one of 50 concurrent If-Match writers win per version, with contiguous versions', async () => {
    await t.api.put('/Patient/hot').send({ resourceType: 'Patient', id: 'hot' });
    const put = (writer: number, version: number) =>
      t.api
        .put('/Patient/hot')
        .set('if-match', `W/"${version}"`)
        .set('prefer', 'return=minimal')
        .send({ resourceType: 'Patient', id: 'hot', name: [{ family: `writer-${writer}` }] });
    const first = await Promise.all(Array.from({ length: 50 }, (_, w) => put(w, 1)));
    assert.equal(first.filter((r) => r.status === 200).length, 1);
    assert.equal(first.filter((r) => r.status === 412).length, 49);

    const losers = first.map((r, w) => (r.status === 412 ? w : -1)).filter((w) => w >= 0);
    await Promise.all(
      losers.map(async (w) => {
        for (let attempt = 0; attempt < 200; attempt++) {
          const cur = await t.api.get('/Patient/hot');
          const version = Number(cur.body.meta.versionId);
          const res = await put(w, version);
          if (res.status === 200) return;
          assert.equal(res.status, 412);
        }
        assert.fail(`writer ${w} never won`);
      }),
    );
    const rows = await t.engine.all<{ version: number; json: string }>(
      "SELECT version, json FROM history WHERE type = 'Patient' AND id = 'hot' ORDER BY version",
    );
    assert.deepEqual(
      rows.map((r) => r.version),
      Array.from({ length: 51 }, (_, i) => i + 1),
    );
    const writers = rows
      .slice(1)
      .map((r) => (JSON.parse(r.json) as { name: { family: string }[] }).name[0]!.family);
    assert.equal(new Set(writers).size, 50, 'every writer landed exactly once');
  });
});
