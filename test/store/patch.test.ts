import assert from 'node:assert/strict';
import { describeOnEngines } from '../support/engines.js';
import { FHIR, testStore, type TestStore } from './helpers.js';

describeOnEngines('store REST: patch', function (engine) {
  this.timeout(20_000);
  let t: TestStore;
  let id: string;
  before(async () => {
    t = await testStore({}, {}, engine);
  });
  beforeEach(async () => {
    const c = await t.api
      .post('/Observation')
      .set('content-type', FHIR)
      .send(
        '{"resourceType":"Observation","status":"preliminary","code":{"text":"x"},"valueQuantity":{"value":0.010},"note":[{"text":"a"},{"text":"b"}]}',
      );
    id = c.body.id as string;
  });
  after(async () => {
    await t.close();
  });

  it('applies a JSON Patch, bumps the version, and keeps untouched decimals exact', async () => {
    const res = await t.api
      .patch(`/Observation/${id}`)
      .set('content-type', 'application/json-patch+json')
      .send(
        JSON.stringify([
          { op: 'replace', path: '/status', value: 'final' },
          { op: 'add', path: '/note/-', value: { text: 'c' } },
          { op: 'test', path: '/code/text', value: 'x' },
        ]),
      );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'final');
    assert.equal(res.body.meta.versionId, '2');
    assert.deepEqual(
      (res.body.note as { text: string }[]).map((n) => n.text),
      ['a', 'b', 'c'],
    );
    assert.ok(res.text.includes('"value":0.010'));
  });

  it('answers 422 when a JSON Patch test fails or a path is missing, changing nothing', async () => {
    const a = await t.api
      .patch(`/Observation/${id}`)
      .set('content-type', 'application/json-patch+json')
      .send(JSON.stringify([{ op: 'test', path: '/status', value: 'final' }]));
    assert.equal(a.status, 422);
    const b = await t.api
      .patch(`/Observation/${id}`)
      .set('content-type', 'application/json-patch+json')
      .send(JSON.stringify([{ op: 'remove', path: '/nothing/here' }]));
    assert.equal(b.status, 422);
    assert.equal((await t.api.get(`/Observation/${id}`)).body.meta.versionId, '1');
  });

  it('rejects a patch that produces an invalid resource with 400', async () => {
    const res = await t.api
      .patch(`/Observation/${id}`)
      .set('content-type', 'application/json-patch+json')
      .send(JSON.stringify([{ op: 'replace', path: '/status', value: 'sort-of' }]));
    assert.equal(res.status, 400);
  });

  it('applies a FHIRPath Patch (replace, add, insert, delete, move)', async () => {
    const params = {
      resourceType: 'Parameters',
      parameter: [
        op([
          ['type', 'valueCode', 'replace'],
          ['path', 'valueString', 'Observation.status'],
          ['value', 'valueCode', 'final'],
        ]),
        op([
          ['type', 'valueCode', 'add'],
          ['path', 'valueString', 'Observation'],
          ['name', 'valueString', 'issued'],
          ['value', 'valueInstant', '2024-01-01T00:00:00Z'],
        ]),
        op([
          ['type', 'valueCode', 'insert'],
          ['path', 'valueString', 'Observation.note'],
          ['index', 'valueInteger', 0],
          ['value', 'valueAnnotation', { text: 'first' }],
        ]),
        op([
          ['type', 'valueCode', 'delete'],
          ['path', 'valueString', "Observation.note.where(text = 'a')"],
        ]),
        op([
          ['type', 'valueCode', 'move'],
          ['path', 'valueString', 'Observation.note'],
          ['source', 'valueInteger', 1],
          ['destination', 'valueInteger', 0],
        ]),
        op([
          ['type', 'valueCode', 'add'],
          ['path', 'valueString', 'Observation'],
          ['name', 'valueString', 'category'],
          ['value', 'valueCodeableConcept', { text: 'lab' }],
        ]),
      ],
    };
    const res = await t.api.patch(`/Observation/${id}`).set('content-type', FHIR).send(params);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'final');
    assert.equal(res.body.issued, '2024-01-01T00:00:00Z');
    assert.deepEqual(
      (res.body.note as { text: string }[]).map((n) => n.text),
      ['b', 'first'],
    );
    assert.deepEqual(res.body.category, [{ text: 'lab' }]);
    assert.ok(res.text.includes('"value":0.010'));
  });

  it('answers 422 when a FHIRPath Patch path matches several elements for replace', async () => {
    const params = {
      resourceType: 'Parameters',
      parameter: [
        op([
          ['type', 'valueCode', 'replace'],
          ['path', 'valueString', 'Observation.note'],
          ['value', 'valueAnnotation', { text: 'z' }],
        ]),
      ],
    };
    const res = await t.api.patch(`/Observation/${id}`).set('content-type', FHIR).send(params);
    assert.equal(res.status, 422);
  });

  it('answers 412 to a patch with a stale If-Match and 404 for a missing resource', async () => {
    const res = await t.api
      .patch(`/Observation/${id}`)
      .set('content-type', 'application/json-patch+json')
      .set('if-match', 'W/"9"')
      .send(JSON.stringify([{ op: 'replace', path: '/status', value: 'final' }]));
    assert.equal(res.status, 412);
    const missing = await t.api
      .patch('/Observation/missing')
      .set('content-type', 'application/json-patch+json')
      .send(JSON.stringify([{ op: 'replace', path: '/status', value: 'final' }]));
    assert.equal(missing.status, 404);
  });
});

type Part = [string, string, unknown];

function op(parts: Part[]) {
  return { name: 'operation', part: parts.map(([name, key, value]) => ({ name, [key]: value })) };
}
