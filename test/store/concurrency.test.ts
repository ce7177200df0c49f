import assert from 'node:assert/strict';
import { describeOnEngines } from '../support/engines.js';
import { testStore, type TestStore } from './helpers.js';

describeOnEngines('store REST: concurrent writers', function (engine) {
  this.timeout(60_000);
  let t: TestStore;
  before(async () => {
    t = await testStore({}, {}, engine);
  });
  after(async () => {
    await t.close();
  });

  it('lets exactly one of 50 concurrent If-Match writers win per version, with contiguous versions', async () => {
    await t.api.put('/Patient/hot').send({ resourceType: 'Patient', id: 'hot' });
    const put = (round: number, writer: number, version: number) =>
      t.api
        .put('/Patient/hot')
        .set('if-match', `W/"${version}"`)
        .set('prefer', 'return=minimal')
        .send({ resourceType: 'Patient', id: 'hot', name: [{ family: `r${round}-w${writer}` }] });
    const winners: string[] = [];
    for (let round = 1; round <= 4; round++) {
      // every writer read version `round` and races to write the next one
      const results = await Promise.all(Array.from({ length: 50 }, (_, w) => put(round, w, round)));
      const won = results.map((r, w) => (r.status === 200 ? w : -1)).filter((w) => w >= 0);
      assert.equal(won.length, 1, `round ${round}: ${won.length} winners`);
      assert.equal(results.filter((r) => r.status === 412).length, 49);
      assert.equal(results[won[0]!]!.headers.etag, `W/"${round + 1}"`);
      winners.push(`r${round}-w${won[0]!}`);
    }
    const rows = await t.engine.all<{ version: number | string; json: string }>(
      "SELECT version, json FROM history WHERE type = 'Patient' AND id = 'hot' ORDER BY version",
    );
    assert.deepEqual(
      rows.map((r) => Number(r.version)),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      rows
        .slice(1)
        .map((r) => (JSON.parse(r.json) as { name: { family: string }[] }).name[0]!.family),
      winners,
      'each version holds exactly its winner',
    );
  });
});
