import assert from 'node:assert/strict';
import type { Queryable } from '../../store/engines/engine.js';
import type { SearchProvider } from '../../store/http/types.js';
import { badRequest } from '../../store/fhir/outcome.js';
import { jsonResponse } from '../../store/http/respond.js';
import { testStore, type TestStore } from './helpers.js';

/**
 * A minimal SearchProvider for the plug-in seam: matches `identifier=system|value` by scanning the
 * current resources (the real one lives in store/search).
 */
const identifierMatcher: SearchProvider = {
  search: () => Promise.resolve(jsonResponse(200, { resourceType: 'Bundle', type: 'searchset' })),
  async match(db: Queryable, type: string, params: URLSearchParams) {
    const wanted = params.get('identifier');
    if (wanted === null) throw badRequest('only identifier is supported by this test matcher');
    const [system, value] = wanted.split('|');
    const rows = await db.all<{ id: string; json: string }>(
      'SELECT id, json FROM resource WHERE type = ? AND deleted = 0',
      [type],
    );
    return rows
      .filter((r) =>
        (
          (JSON.parse(r.json) as { identifier?: { system?: string; value?: string }[] })
            .identifier ?? []
        ).some((i) => i.system === system && i.value === value),
      )
      .map((r) => r.id);
  },
};

const patient = (value: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  identifier: [{ system: 'urn:mrn', value }],
  ...extra,
});

describe('store REST: conditional operations through a SearchProvider', function () {
  this.timeout(20_000);
  let t: TestStore;
  before(async () => {
    t = await testStore({}, { search: identifierMatcher });
  });
  after(async () => {
    await t.close();
  });

  it('creates once with If-None-Exist and answers 200 with the existing resource afterwards', async () => {
    const a = await t.api
      .post('/Patient')
      .set('if-none-exist', 'identifier=urn:mrn|c-1')
      .send(patient('c-1'));
    assert.equal(a.status, 201);
    const b = await t.api
      .post('/Patient')
      .set('if-none-exist', 'identifier=urn:mrn|c-1')
      .send(patient('c-1'));
    assert.equal(b.status, 200);
    assert.equal(b.body.id, a.body.id);
    await t.api.post('/Patient').send(patient('c-1'));
    const c = await t.api
      .post('/Patient')
      .set('if-none-exist', 'identifier=urn:mrn|c-1')
      .send(patient('c-1'));
    assert.equal(c.status, 412);
    assert.equal(c.body.issue[0].code, 'multiple-matches');
  });

  it('updates conditionally: creates when nothing matches, updates the one match', async () => {
    const a = await t.api.put('/Patient?identifier=urn:mrn|u-1').send(patient('u-1'));
    assert.equal(a.status, 201);
    const b = await t.api
      .put('/Patient?identifier=urn:mrn|u-1')
      .send(patient('u-1', { active: true }));
    assert.equal(b.status, 200);
    assert.equal(b.body.id, a.body.id);
    assert.equal(b.body.meta.versionId, '2');
  });

  it('deletes conditionally, refusing several matches without _count', async () => {
    await t.api.post('/Patient').send(patient('d-1'));
    await t.api.post('/Patient').send(patient('d-1'));
    assert.equal((await t.api.delete('/Patient?identifier=urn:mrn|d-1')).status, 412);
    const del = await t.api.delete('/Patient?identifier=urn:mrn|d-1&_count=5');
    assert.equal(del.status, 204);
    assert.equal(del.headers['items-deleted'], '2');
  });

  it('resolves a conditional create inside a transaction to the existing resource for references', async () => {
    const existing = await t.api.post('/Patient').send(patient('tx-c'));
    const res = await t.api.post('/').send({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111',
          resource: patient('tx-c'),
          request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:mrn|tx-c' },
        },
        {
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'x' },
            subject: { reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' },
          },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    });
    assert.equal(res.status, 200, res.text);
    const entries = res.body.entry as {
      response: { status: string };
      resource: { subject?: { reference: string } };
    }[];
    assert.equal(entries[0]!.response.status, '200 OK');
    assert.equal(entries[1]!.resource.subject!.reference, `Patient/${existing.body.id}`);
  });
});
