import assert from 'node:assert/strict';
import { describeOnEngines } from '../support/engines.js';
import { BASE, FHIR, testStore, type TestStore } from './helpers.js';

describeOnEngines('store REST: create, read, vread, update, delete', function (engine) {
  this.timeout(20_000);
  let t: TestStore;
  before(async () => {
    t = await testStore({}, {}, engine);
  });
  after(async () => {
    await t.close();
  });

  it('creates with a server id (ignoring the body id) and answers 201 with versioned Location and ETag', async () => {
    const res = await t.api
      .post('/Patient')
      .set('content-type', FHIR)
      .send({ resourceType: 'Patient', id: 'client-chosen', name: [{ family: 'Chalmers' }] });
    assert.equal(res.status, 201);
    assert.notEqual(res.body.id, 'client-chosen');
    assert.match(res.body.id as string, /^[0-9a-f-]{36}$/);
    assert.equal(res.body.meta.versionId, '1');
    assert.equal(res.headers.etag, 'W/"1"');
    assert.equal(res.headers.location, `${BASE}/Patient/${res.body.id}/_history/1`);
    assert.ok(res.headers['last-modified']);
    assert.equal(
      new Date(res.body.meta.lastUpdated as string).toUTCString(),
      res.headers['last-modified'],
    );
  });

  it('reads back exactly the stored text of the version, byte for byte, including meta', async () => {
    const created = await t.api
      .post('/Observation')
      .set('content-type', FHIR)
      .send(
        '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":0.010,"unit":"mg"}}',
      );
    assert.equal(created.status, 201);
    assert.ok(created.text.includes('"value":0.010'), created.text);
    const read = await t.api.get(`/Observation/${created.body.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.text, created.text);
    assert.equal(read.headers['content-type'], 'application/fhir+json; charset=utf-8');
  });

  it('trims a read and a vread for _elements and _summary (SUBSETTED), keeps the ETag, and refuses _summary=count', async () => {
    const created = await t.api
      .post('/Observation')
      .set('content-type', FHIR)
      .send(
        '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":0.010},"note":[{"text":"n"}]}',
      );
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    for (const path of [`/Observation/${id}`, `/Observation/${id}/_history/1`]) {
      const trimmed = await t.api.get(`${path}?_elements=valueQuantity`);
      assert.equal(trimmed.status, 200, trimmed.text);
      assert.equal(trimmed.headers.etag, 'W/"1"');
      assert.deepEqual(Object.keys(JSON.parse(trimmed.text) as object).sort(), [
        'id',
        'meta',
        'resourceType',
        'valueQuantity',
      ]);
      assert.match(trimmed.text, /"value":0\.010\b/);
      assert.match(trimmed.text, /SUBSETTED/);
      const summary = await t.api.get(`${path}?_summary=true`);
      assert.equal(summary.status, 200);
      assert.ok(!('note' in (JSON.parse(summary.text) as object)), summary.text);
      const count = await t.api.get(`${path}?_summary=count`);
      assert.equal(count.status, 400);
      assert.equal(count.body.resourceType, 'OperationOutcome');
    }
    const whole = await t.api.get(`/Observation/${id}?_summary=false`);
    assert.equal(whole.text, created.text);
  });

  it('answers each of many concurrent reads with its own resource, 404 and 410 included', async () => {
    const ids: string[] = [];
    for (const family of ['A', 'B', 'C']) {
      const res = await t.api
        .post('/Patient')
        .send({ resourceType: 'Patient', name: [{ family }] });
      ids.push(res.body.id as string);
    }
    const [a, b, c] = ids as [string, string, string];
    await t.api.delete(`/Patient/${c}`);
    const paths = [a, b, a, c, 'missing', b].map((id) => `/Patient/${id}`);
    const answers = await Promise.all(paths.map((p) => t.api.get(p)));
    assert.deepEqual(
      answers.map((r) => r.status),
      [200, 200, 200, 410, 404, 200],
    );
    assert.deepEqual(
      answers.map((r) =>
        r.status === 200 ? (r.body.name as { family: string }[])[0]?.family : '',
      ),
      ['A', 'B', 'A', '', '', 'B'],
    );
  });

  it('keeps decimals, exponents and big integers exactly as sent', async () => {
    const body =
      '{"resourceType":"Observation","status":"final","code":{"text":"x"},"component":[' +
      '{"code":{"text":"a"},"valueQuantity":{"value":1.50}},{"code":{"text":"b"},"valueQuantity":{"value":1e2}},' +
      '{"code":{"text":"c"},"valueQuantity":{"value":123456789012345678901234567890}},{"code":{"text":"d"},"valueInteger":7}]}';
    const created = await t.api.post('/Observation').set('content-type', FHIR).send(body);
    assert.equal(created.status, 201, created.text);
    const read = await t.api.get(`/Observation/${created.body.id}`);
    for (const text of [
      '"value":1.50',
      '"value":1e2',
      '"value":123456789012345678901234567890',
      '"valueInteger":7',
    ]) {
      assert.ok(read.text.includes(text), `${text} in ${read.text}`);
    }
  });

  it('updates with a new version, contiguous versionIds, and vread returns each version', async () => {
    const c = await t.api.post('/Patient').send({ resourceType: 'Patient', active: true });
    const id = c.body.id as string;
    const u = await t.api
      .put(`/Patient/${id}`)
      .send({ resourceType: 'Patient', id, active: false });
    assert.equal(u.status, 200);
    assert.equal(u.body.meta.versionId, '2');
    assert.equal(u.headers.etag, 'W/"2"');
    assert.equal(u.headers['content-location'], `${BASE}/Patient/${id}/_history/2`);
    const v1 = await t.api.get(`/Patient/${id}/_history/1`);
    assert.equal(v1.status, 200);
    assert.equal(v1.body.active, true);
    assert.equal(v1.text, c.text);
    const v3 = await t.api.get(`/Patient/${id}/_history/3`);
    assert.equal(v3.status, 404);
    assert.equal(v3.body.resourceType, 'OperationOutcome');
  });

  it('creates on PUT with the client id (update-as-create) and answers 201', async () => {
    const res = await t.api
      .put('/Patient/client-id-1')
      .send({ resourceType: 'Patient', id: 'client-id-1' });
    assert.equal(res.status, 201);
    assert.equal(res.body.id, 'client-id-1');
    assert.equal(res.headers.location, `${BASE}/Patient/client-id-1/_history/1`);
  });

  it('rejects a PUT whose body id differs from the URL id, or has none', async () => {
    const a = await t.api.put('/Patient/abc').send({ resourceType: 'Patient', id: 'xyz' });
    assert.equal(a.status, 400);
    const b = await t.api.put('/Patient/abc').send({ resourceType: 'Patient' });
    assert.equal(b.status, 400);
    assert.equal(b.body.resourceType, 'OperationOutcome');
  });

  it('answers 412 to a stale If-Match and accepts the current one', async () => {
    const c = await t.api.post('/Patient').send({ resourceType: 'Patient' });
    const id = c.body.id as string;
    const ok = await t.api
      .put(`/Patient/${id}`)
      .set('if-match', 'W/"1"')
      .send({ resourceType: 'Patient', id, active: true });
    assert.equal(ok.status, 200);
    const stale = await t.api
      .put(`/Patient/${id}`)
      .set('if-match', 'W/"1"')
      .send({ resourceType: 'Patient', id });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.issue[0].code, 'conflict');
  });

  it('answers 304 to If-None-Match with the current ETag and to a later If-Modified-Since', async () => {
    const c = await t.api.post('/Patient').send({ resourceType: 'Patient' });
    const id = c.body.id as string;
    const a = await t.api.get(`/Patient/${id}`).set('if-none-match', 'W/"1"');
    assert.equal(a.status, 304);
    assert.equal(a.text, '');
    const b = await t.api.get(`/Patient/${id}`).set('if-none-match', 'W/"7"');
    assert.equal(b.status, 200);
    const d = await t.api
      .get(`/Patient/${id}`)
      .set('if-modified-since', new Date(Date.now() + 60_000).toUTCString());
    assert.equal(d.status, 304);
    const e = await t.api
      .get(`/Patient/${id}`)
      .set('if-modified-since', new Date(Date.now() - 3_600_000).toUTCString());
    assert.equal(e.status, 200);
  });

  it('honours Prefer return=minimal, representation and OperationOutcome', async () => {
    const min = await t.api
      .post('/Patient')
      .set('prefer', 'return=minimal')
      .send({ resourceType: 'Patient' });
    assert.equal(min.status, 201);
    assert.equal(min.text, '');
    assert.ok(min.headers.location);
    const oo = await t.api
      .post('/Patient')
      .set('prefer', 'return=OperationOutcome')
      .send({ resourceType: 'Patient' });
    assert.equal(oo.status, 201);
    assert.equal(oo.body.resourceType, 'OperationOutcome');
    const rep = await t.api
      .post('/Patient')
      .set('prefer', 'return=representation')
      .send({ resourceType: 'Patient' });
    assert.equal(rep.body.resourceType, 'Patient');
  });

  it('soft-deletes: 204, then 410 Gone on read, and deleting again or deleting a missing one is 204', async () => {
    const c = await t.api.post('/Patient').send({ resourceType: 'Patient' });
    const id = c.body.id as string;
    const d = await t.api.delete(`/Patient/${id}`);
    assert.equal(d.status, 204);
    assert.equal(d.headers.etag, 'W/"2"');
    const r = await t.api.get(`/Patient/${id}`);
    assert.equal(r.status, 410);
    assert.equal(r.body.issue[0].code, 'deleted');
    assert.equal((await t.api.delete(`/Patient/${id}`)).status, 204);
    assert.equal((await t.api.delete('/Patient/never-existed')).status, 204);
    const v2 = await t.api.get(`/Patient/${id}/_history/2`);
    assert.equal(v2.status, 410);
    const v1 = await t.api.get(`/Patient/${id}/_history/1`);
    assert.equal(v1.status, 200);
    const again = await t.api.put(`/Patient/${id}`).send({ resourceType: 'Patient', id });
    assert.equal(again.status, 201);
    assert.equal(again.body.meta.versionId, '3');
  });

  it('answers 404 for an unknown id and an unknown resource type, 400 for a malformed id', async () => {
    const a = await t.api.get('/Patient/nope');
    assert.equal(a.status, 404);
    assert.equal(a.body.issue[0].code, 'not-found');
    const b = await t.api.get('/Spaceship/1');
    assert.equal(b.status, 404);
    const c = await t.api.post('/Spaceship').send({ resourceType: 'Spaceship' });
    assert.equal(c.status, 404);
    const d = await t.api.get(`/Patient/${'x'.repeat(65)}`);
    assert.equal(d.status, 400);
    const e = await t.api.put('/Patient/bad$id').send({ resourceType: 'Patient', id: 'bad$id' });
    assert.equal(e.status, 400);
  });

  it('serves the FHIR base under /fhir as well as at the root', async () => {
    const c = await t.api.post('/fhir/Patient').send({ resourceType: 'Patient' });
    assert.equal(c.status, 201);
    assert.equal((await t.api.get(`/fhir/Patient/${c.body.id}`)).status, 200);
  });

  it('answers 405 for a method an endpoint does not take', async () => {
    const res = await t.api.post('/Patient/abc').send({ resourceType: 'Patient' });
    assert.equal(res.status, 405);
    assert.equal(res.body.resourceType, 'OperationOutcome');
  });

  it('answers HEAD like GET without a body', async () => {
    const c = await t.api.post('/Patient').send({ resourceType: 'Patient' });
    const h = await t.api.head(`/Patient/${c.body.id}`);
    assert.equal(h.status, 200);
    assert.equal(h.headers.etag, 'W/"1"');
  });

  it('answers a plain read like the same read spelled with escapes or a query, to the byte', async () => {
    const put = await t.api
      .put('/Patient/a-b.c')
      .set('content-type', FHIR)
      .send({
        resourceType: 'Patient',
        id: 'a-b.c',
        name: [{ family: 'Ångström', given: ['Zoë'] }],
      });
    assert.equal(put.status, 201);
    const plain = await t.api.get('/fhir/Patient/a-b.c').set('x-request-id', 'rq-1');
    assert.equal(plain.status, 200);
    assert.equal(plain.text, put.text);
    assert.equal(Number(plain.headers['content-length']), Buffer.byteLength(plain.text, 'utf8'));
    assert.equal(plain.headers['x-request-id'], 'rq-1');
    for (const other of ['/fhir/Patient/a%2Db.c', '/Patient/a-b.c?_format=json']) {
      const res = await t.api.get(other);
      assert.equal(res.status, 200, other);
      assert.equal(res.text, plain.text, other);
      for (const h of [
        'content-type',
        'content-length',
        'etag',
        'last-modified',
        'content-location',
      ])
        assert.equal(res.headers[h], plain.headers[h], `${other} ${h}`);
    }
    // dot segments resolve as URLs do (`/fhir/Patient/..` is the base), never as an id
    const dots = await t.api.get('/fhir/Patient/..');
    const base = await t.api.get('/fhir/');
    assert.equal(dots.status, base.status);
    assert.equal(dots.body.issue?.[0]?.code, base.body.issue?.[0]?.code);
    assert.equal((await t.api.get('/fhir/Spaceship/1')).status, 404);
  });
});
