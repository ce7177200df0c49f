import assert from 'node:assert/strict';
import { describeOnEngines } from '../support/engines.js';
import { BASE, testStore, type TestStore } from './helpers.js';

interface ResponseEntry {
  fullUrl?: string;
  resource?: Record<string, unknown> & { id: string };
  response: {
    status: string;
    location?: string;
    etag?: string;
    outcome?: { issue: { code: string; diagnostics: string }[] };
  };
}

const tx = (entry: unknown[], type = 'transaction') => ({ resourceType: 'Bundle', type, entry });

describeOnEngines('store REST: batch and transaction Bundles', function (engine) {
  this.timeout(20_000);
  let t: TestStore;
  before(async () => {
    t = await testStore({ BUNDLE_MAX_ENTRIES: '10' }, {}, engine);
  });
  after(async () => {
    await t.close();
  });

  it('resolves urn:uuid fullUrls into new ids everywhere they are referenced', async () => {
    const p = 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a';
    const res = await t.api.post('/').send(
      tx([
        {
          fullUrl: 'urn:uuid:0a7e7a06-7b43-4d6f-9a44-6e1b1f9f3c11',
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'x' },
            subject: { reference: p },
            text: {
              status: 'generated',
              div: `<div xmlns="http://www.w3.org/1999/xhtml"><a href="${p}">patient</a></div>`,
            },
          },
          request: { method: 'POST', url: 'Observation' },
        },
        {
          fullUrl: p,
          resource: { resourceType: 'Patient', name: [{ family: 'Urn' }] },
          request: { method: 'POST', url: 'Patient' },
        },
      ]),
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.type, 'transaction-response');
    const [obs, pat] = res.body.entry as ResponseEntry[];
    assert.equal(obs!.response.status, '201 Created');
    assert.equal(pat!.response.status, '201 Created');
    const patientId = pat!.resource!.id;
    assert.equal(
      (obs!.resource!.subject as { reference: string }).reference,
      `Patient/${patientId}`,
    );
    assert.ok(JSON.stringify(obs!.resource!.text).includes(`Patient/${patientId}`));
    assert.equal(pat!.response.location, `${BASE}/Patient/${patientId}/_history/1`);
    assert.equal(pat!.fullUrl, `${BASE}/Patient/${patientId}`);
    const stored = await t.api.get(`/Observation/${obs!.resource!.id}`);
    assert.equal(stored.body.subject.reference, `Patient/${patientId}`);
  });

  it('rolls back the whole transaction when one entry fails, naming the entry', async () => {
    const before = await t.engine.get<{ n: number }>('SELECT count(*) AS n FROM resource');
    const res = await t.api.post('/').send(
      tx([
        {
          resource: { resourceType: 'Patient', id: 'tx-ok' },
          request: { method: 'PUT', url: 'Patient/tx-ok' },
        },
        {
          resource: { resourceType: 'Patient', gender: 'nope' },
          request: { method: 'POST', url: 'Patient' },
        },
      ]),
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.match(res.body.issue[0].diagnostics as string, /^Bundle\.entry\[1\] \(POST Patient\)/);
    assert.equal(res.body.issue[0].expression[0], 'Bundle.entry[1]');
    assert.equal((await t.api.get('/Patient/tx-ok')).status, 404);
    const after = await t.engine.get<{ n: number }>('SELECT count(*) AS n FROM resource');
    assert.equal(after?.n, before?.n);
  });

  it('fails a transaction with a stale If-Match entry with 412 and changes nothing', async () => {
    await t.api.put('/Patient/tx-m').send({ resourceType: 'Patient', id: 'tx-m' });
    const res = await t.api.post('/').send(
      tx([
        {
          resource: { resourceType: 'Patient', id: 'tx-new' },
          request: { method: 'PUT', url: 'Patient/tx-new' },
        },
        {
          resource: { resourceType: 'Patient', id: 'tx-m', active: true },
          request: { method: 'PUT', url: 'Patient/tx-m', ifMatch: 'W/"5"' },
        },
      ]),
    );
    assert.equal(res.status, 412);
    assert.equal((await t.api.get('/Patient/tx-new')).status, 404);
  });

  it('processes entries in the spec order: DELETE, POST, PUT/PATCH, then GET', async () => {
    await t.api.put('/Patient/ord-1').send({ resourceType: 'Patient', id: 'ord-1', active: false });
    await t.api.put('/Patient/ord-2').send({ resourceType: 'Patient', id: 'ord-2' });
    const res = await t.api.post('/').send(
      tx([
        { request: { method: 'GET', url: 'Patient/ord-1' } },
        {
          resource: { resourceType: 'Patient', id: 'ord-1', active: true },
          request: { method: 'PUT', url: 'Patient/ord-1' },
        },
        { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'DELETE', url: 'Patient/ord-2' } },
      ]),
    );
    assert.equal(res.status, 200, res.text);
    const entries = res.body.entry as ResponseEntry[];
    assert.equal(entries[0]!.resource!.active, true, 'GET ran after the PUT');
    assert.equal(entries[3]!.response.status, '204 No Content');
    const hist = await t.api.get('/Patient/_history?_count=3');
    assert.deepEqual(
      (hist.body.entry as { request: { method: string } }[]).map((e) => e.request.method),
      ['PUT', 'POST', 'DELETE'],
    );
  });

  it('versions each written resource from its current row: update, re-create after delete, create', async () => {
    await t.api.put('/Patient/v-upd').send({ resourceType: 'Patient', id: 'v-upd' });
    await t.api.put('/Patient/v-upd').send({ resourceType: 'Patient', id: 'v-upd', active: true });
    await t.api.put('/Patient/v-del').send({ resourceType: 'Patient', id: 'v-del' });
    await t.api.delete('/Patient/v-del');
    const res = await t.api.post('/').send(
      tx([
        {
          resource: { resourceType: 'Patient', id: 'v-upd', active: false },
          request: { method: 'PUT', url: 'Patient/v-upd', ifMatch: 'W/"2"' },
        },
        {
          resource: { resourceType: 'Patient', id: 'v-del' },
          request: { method: 'PUT', url: 'Patient/v-del' },
        },
        {
          resource: { resourceType: 'Patient', id: 'v-new' },
          request: { method: 'PUT', url: 'Patient/v-new' },
        },
        { request: { method: 'GET', url: 'Patient/v-upd' } },
      ]),
    );
    assert.equal(res.status, 200, res.text);
    const entries = res.body.entry as ResponseEntry[];
    assert.deepEqual(
      entries.map((e) => [e.response.status, e.response.etag]),
      [
        ['200 OK', 'W/"3"'],
        ['201 Created', 'W/"3"'],
        ['201 Created', 'W/"1"'],
        ['200 OK', 'W/"3"'],
      ],
    );
    assert.equal(entries[3]!.resource!.active, false, 'the GET sees the update');
    const read = await t.api.get('/Patient/v-upd');
    assert.equal(read.body.meta.versionId, '3');
  });

  it('fails a transaction that changes the same resource twice', async () => {
    const res = await t.api.post('/').send(
      tx([
        {
          resource: { resourceType: 'Patient', id: 'twice' },
          request: { method: 'PUT', url: 'Patient/twice' },
        },
        { request: { method: 'DELETE', url: 'Patient/twice' } },
      ]),
    );
    assert.equal(res.status, 400);
    assert.match(JSON.stringify(res.body), /more than one entry/);
    assert.equal((await t.api.get('/Patient/twice')).status, 404);
  });

  it('applies a JSON Patch entry sent as a Binary', async () => {
    await t.api.put('/Patient/tx-p').send({ resourceType: 'Patient', id: 'tx-p' });
    const patch = Buffer.from(
      JSON.stringify([{ op: 'add', path: '/active', value: true }]),
    ).toString('base64');
    const res = await t.api.post('/').send(
      tx([
        {
          resource: {
            resourceType: 'Binary',
            contentType: 'application/json-patch+json',
            data: patch,
          },
          request: { method: 'PATCH', url: 'Patient/tx-p' },
        },
      ]),
    );
    assert.equal(res.status, 200, res.text);
    assert.equal((await t.api.get('/Patient/tx-p')).body.active, true);
  });

  it('runs batch entries independently, each with its own response', async () => {
    const res = await t.api.post('/').send(
      tx(
        [
          {
            resource: { resourceType: 'Patient', id: 'b-1' },
            request: { method: 'PUT', url: 'Patient/b-1' },
          },
          {
            resource: { resourceType: 'Patient', gender: 'nope' },
            request: { method: 'POST', url: 'Patient' },
          },
          { request: { method: 'GET', url: 'Patient/does-not-exist' } },
          { request: { method: 'GET', url: 'Patient/b-1' } },
          { request: { url: 'Patient' } },
        ],
        'batch',
      ),
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.type, 'batch-response');
    const statuses = (res.body.entry as ResponseEntry[]).map(
      (e) => e.response.status.split(' ')[0],
    );
    assert.deepEqual(statuses.slice(0, 3), ['201', '400', '404']);
    assert.equal(statuses[4], '400');
    assert.equal(
      (res.body.entry as ResponseEntry[])[1]!.response.outcome!.issue[0]!.code,
      'code-invalid',
    );
    assert.equal((await t.api.get('/Patient/b-1')).status, 200);
  });

  it('refuses more entries than BUNDLE_MAX_ENTRIES, other Bundle types, and a Bundle posted to a type', async () => {
    const many = Array.from({ length: 11 }, () => ({
      request: { method: 'GET', url: 'metadata' },
    }));
    const res = await t.api.post('/').send(tx(many, 'batch'));
    assert.equal(res.status, 400);
    assert.match(res.body.issue[0].diagnostics as string, /BUNDLE_MAX_ENTRIES/);
    assert.equal((await t.api.post('/').send(tx([], 'collection'))).status, 400);
  });
});
