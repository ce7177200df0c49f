import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Tx } from '../../store/engines/engine.js';
import { testStore, withSearch, type TestStore } from './helpers.js';

const PATIENTS = 500;

const bundle = {
  resourceType: 'Bundle',
  type: 'transaction',
  entry: Array.from({ length: PATIENTS }, (_, n) => ({
    fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    resource: {
      resourceType: 'Patient',
      name: [{ family: `Turn${n}`, given: ['Ada'] }],
      gender: n % 2 === 0 ? 'female' : 'male',
      birthDate: '1970-01-01',
    },
    request: { method: 'POST', url: 'Patient' },
  })),
};

// SQLite: on PostgreSQL every entry awaits the database, so the loop turns there anyway.
describe('store: a transaction Bundle gives the event loop turns while it runs (sqlite)', function () {
  this.timeout(60_000);
  let t: TestStore;
  before(async () => {
    t = await testStore({}, withSearch());
  });
  after(async () => {
    await t.close();
  });

  it('answers a search sent after the transaction began before the Bundle commits, and without its writes', async () => {
    const { port } = t.server.address() as AddressInfo;
    const order: string[] = [];
    let read: Promise<number> | undefined;
    const engine = t.engine;
    const transaction = engine.transaction.bind(engine);
    engine.transaction = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> =>
      transaction((tx) => {
        // The first transaction of the Bundle: search while its entries run.
        read ??= fetch(`http://127.0.0.1:${port}/Patient?_summary=count`, {
          headers: { accept: 'application/fhir+json' },
        }).then(async (res) => {
          assert.equal(res.status, 200);
          const { total } = (await res.json()) as { total: number };
          order.push('search');
          return total;
        });
        return fn(tx);
      });
    try {
      const posted = t.api
        .post('/')
        .set('content-type', 'application/fhir+json')
        .send(bundle)
        .then((res) => {
          order.push('bundle');
          return res;
        });
      const res = await posted;
      assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
      assert.ok(read !== undefined, 'the Bundle ran no transaction');
      assert.equal(await read, 0, 'the search saw writes of a transaction that had not committed');
      assert.deepEqual(order, ['search', 'bundle']);
    } finally {
      engine.transaction = transaction;
    }
    const after = await t.api.get('/Patient?_summary=count');
    assert.equal((after.body as { total: number }).total, PATIENTS);
  });
});
