import assert from 'node:assert/strict';
import { describeOnEngines } from '../support/engines.js';
import { BASE, testStore, type TestStore } from './helpers.js';

interface Entry {
  fullUrl: string;
  resource?: { id: string; meta: { versionId: string } };
  request: { method: string; url: string };
  response: { status: string; etag: string; lastModified: string };
}

describeOnEngines('store REST: history', function (engine) {
  this.timeout(20_000);
  let t: TestStore;
  let now = Date.parse('2024-01-01T00:00:00Z');
  before(async () => {
    t = await testStore({}, { clock: () => (now += 1000) }, engine);
  });
  after(async () => {
    await t.close();
  });

  it('lists every version of an instance newest first, deletes included', async () => {
    const c = await t.api.post('/Patient').send({ resourceType: 'Patient', active: true });
    const id = c.body.id as string;
    await t.api.put(`/Patient/${id}`).send({ resourceType: 'Patient', id, active: false });
    await t.api.delete(`/Patient/${id}`);
    const h = await t.api.get(`/Patient/${id}/_history`);
    assert.equal(h.status, 200);
    assert.equal(h.body.type, 'history');
    const entries = h.body.entry as Entry[];
    assert.deepEqual(
      entries.map((e) => [e.request.method, e.response.etag]),
      [
        ['DELETE', 'W/"3"'],
        ['PUT', 'W/"2"'],
        ['POST', 'W/"1"'],
      ],
    );
    assert.equal(entries[0]?.resource, undefined);
    assert.equal(entries[1]?.resource?.meta.versionId, '2');
    assert.equal(entries[2]?.fullUrl, `${BASE}/Patient/${id}`);
    assert.equal(entries[2].request.url, 'Patient');
  });

  it('lists type and system history, pages with _count and a next link, and filters with _since', async () => {
    const t0 = now;
    for (let i = 0; i < 5; i++)
      await t.api.post('/Organization').send({ resourceType: 'Organization', name: `o${i}` });
    const page1 = await t.api.get('/Organization/_history?_count=2');
    assert.equal(page1.body.entry.length, 2);
    const next = (page1.body.link as { relation: string; url: string }[]).find(
      (l) => l.relation === 'next',
    );
    assert.ok(next);
    assert.ok(next.url.startsWith(`${BASE}/Organization/_history?`));
    const page2 = await t.api.get(next.url.slice(BASE.length));
    assert.equal(page2.body.entry.length, 2);
    const names = [...page1.body.entry, ...page2.body.entry].map(
      (e: { resource: { name: string } }) => e.resource.name,
    );
    assert.deepEqual(names, ['o4', 'o3', 'o2', 'o1']);
    const since = await t.api.get(
      `/Organization/_history?_since=${new Date(t0 + 2500).toISOString()}`,
    );
    assert.deepEqual(
      (since.body.entry as { resource: { name: string } }[]).map((e) => e.resource.name),
      ['o4', 'o3', 'o2'],
    );
    const system = await t.api.get('/_history?_count=3');
    assert.equal(system.body.entry.length, 3);
    assert.equal(system.body.entry[0].resource.name, 'o4');
  });

  it('answers _at with the versions current at that instant', async () => {
    const c = await t.api
      .post('/Practitioner')
      .send({ resourceType: 'Practitioner', active: true });
    const id = c.body.id as string;
    const between = now + 500;
    await t.api
      .put(`/Practitioner/${id}`)
      .send({ resourceType: 'Practitioner', id, active: false });
    const h = await t.api.get(
      `/Practitioner/${id}/_history?_at=${new Date(between).toISOString()}`,
    );
    assert.deepEqual(
      (h.body.entry as Entry[]).map((e) => e.response.etag),
      ['W/"1"'],
    );
  });

  it('rejects a malformed _since and answers 404 for the history of an unknown resource', async () => {
    assert.equal((await t.api.get('/Patient/_history?_since=yesterday')).status, 400);
    assert.equal((await t.api.get('/Patient/nobody/_history')).status, 404);
  });

  it('keeps history through a soft delete and removes it with hardDelete=true', async () => {
    const c = await t.api.post('/Patient').send({ resourceType: 'Patient' });
    const id = c.body.id as string;
    await t.api.put(`/Patient/${id}`).send({ resourceType: 'Patient', id, active: true });
    const hard = await t.api.delete(`/Patient/${id}?hardDelete=true`);
    assert.equal(hard.status, 204);
    assert.equal((await t.api.get(`/Patient/${id}`)).status, 404);
    assert.equal((await t.api.get(`/Patient/${id}/_history/1`)).status, 404);
    assert.equal((await t.api.get(`/Patient/${id}/_history`)).status, 404);
    const rows = await t.engine.all('SELECT 1 FROM history WHERE type = ? AND id = ?', [
      'Patient',
      id,
    ]);
    assert.equal(rows.length, 0);
  });

  it('removes every version but the current one with $purge-history', async () => {
    const c = await t.api.post('/Patient').send({ resourceType: 'Patient' });
    const id = c.body.id as string;
    await t.api.put(`/Patient/${id}`).send({ resourceType: 'Patient', id, active: true });
    await t.api.put(`/Patient/${id}`).send({ resourceType: 'Patient', id, active: false });
    const p = await t.api.delete(`/Patient/${id}/$purge-history`);
    assert.equal(p.status, 200);
    assert.equal(p.body.resourceType, 'OperationOutcome');
    const h = await t.api.get(`/Patient/${id}/_history`);
    assert.deepEqual(
      (h.body.entry as Entry[]).map((e) => e.response.etag),
      ['W/"3"'],
    );
    assert.equal((await t.api.get(`/Patient/${id}`)).body.active, false);
    assert.equal((await t.api.get(`/Patient/${id}/_history/1`)).status, 404);
  });
});
