import assert from 'node:assert/strict';
import { describeOnEngines } from '../support/engines.js';
import { FHIR, testStore, type TestStore } from './helpers.js';

describeOnEngines('store REST: validation and bad input', function (engine) {
  this.timeout(20_000);
  let t: TestStore;
  before(async () => {
    t = await testStore({ MAX_BODY_BYTES: '65536' }, {}, engine);
  });
  after(async () => {
    await t.close();
  });

  it('rejects an invalid resource with 400 and issues carrying FHIRPath expressions', async () => {
    const res = await t.api
      .post('/Patient')
      .send({ resourceType: 'Patient', birthDate: 'last tuesday', name: [{ family: 42 }], foo: 1 });
    assert.equal(res.status, 400);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    const expressions = (res.body.issue as { expression?: string[] }[]).flatMap(
      (i) => i.expression ?? [],
    );
    assert.ok(expressions.includes('Patient.birthDate'), JSON.stringify(expressions));
    assert.ok(expressions.includes('Patient.name[0].family'));
    assert.ok(expressions.includes('Patient.foo'));
  });

  it('rejects a malformed primitive extension with 400, alone and in a transaction', async () => {
    const bad = [
      { resourceType: 'Patient', gender: 'male', _gender: 'x' },
      { resourceType: 'Patient', name: [{ given: ['a'], _given: 'b' }] },
    ];
    for (const body of bad) {
      const res = await t.api.post('/Patient').send(body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.issue[0].code, 'structure');
      const tx = await t.api.post('/').send({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [body, body, body, body].map((resource) => ({
          resource,
          request: { method: 'POST', url: 'Patient' },
        })),
      });
      assert.equal(tx.status, 400, JSON.stringify(tx.body));
    }
  });

  it('rejects a missing required element', async () => {
    const res = await t.api
      .post('/Observation')
      .send({ resourceType: 'Observation', code: { text: 'x' } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.issue[0].expression, ['Observation.status']);
  });

  it('rejects codes outside a required binding, also inside data types and backbone elements', async () => {
    const res = await t.api.post('/Patient').send({
      resourceType: 'Patient',
      gender: 'robot',
      name: [{ use: 'nickname-ish', family: 'x' }],
    });
    assert.equal(res.status, 400);
    const byPath = Object.fromEntries(
      (res.body.issue as { code: string; expression?: string[] }[]).map((i) => [
        i.expression?.[0],
        i.code,
      ]),
    );
    assert.equal(byPath['Patient.gender'], 'code-invalid');
    assert.equal(byPath['Patient.name[0].use'], 'code-invalid');
    const ok = await t.api
      .post('/Patient')
      .send({ resourceType: 'Patient', gender: 'female', name: [{ use: 'official' }] });
    assert.equal(ok.status, 201);
  });

  it('rejects a body whose resourceType does not match the URL', async () => {
    const res = await t.api
      .post('/Patient')
      .send({ resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    assert.equal(res.status, 400);
  });

  it('answers malformed JSON with a 400 structure OperationOutcome', async () => {
    const res = await t.api
      .post('/Patient')
      .set('content-type', FHIR)
      .send('{"resourceType": "Patient",');
    assert.equal(res.status, 400);
    assert.equal(res.body.issue[0].code, 'structure');
  });

  it('answers a body over MAX_BODY_BYTES with 413', async () => {
    const big = JSON.stringify({
      resourceType: 'Patient',
      text: { status: 'generated', div: `<div>${'a'.repeat(70_000)}</div>` },
    });
    const res = await t.api.post('/Patient').set('content-type', FHIR).send(big);
    assert.equal(res.status, 413);
    assert.equal(res.body.issue[0].code, 'too-long');
  });

  it('answers absurdly deep nesting with a 400, not a crash', async () => {
    const deep = `{"resourceType":"Patient","extension":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const res = await t.api.post('/Patient').set('content-type', FHIR).send(deep);
    assert.equal(res.status, 400);
    assert.match(res.body.issue[0].diagnostics as string, /nests deeper/);
    assert.equal((await t.api.get('/metadata')).status, 200);
  });

  it('answers a huge string with a 400 naming the element', async () => {
    const t2 = await testStore({ MAX_BODY_BYTES: '4000000' }, {}, engine);
    try {
      const res = await t2.api
        .post('/Patient')
        .send({ resourceType: 'Patient', name: [{ family: 'x'.repeat(1_100_000) }] });
      assert.equal(res.status, 400);
      assert.equal(res.body.issue[0].code, 'too-long');
      assert.deepEqual(res.body.issue[0].expression, ['Patient.name[0].family']);
    } finally {
      await t2.close();
    }
  });

  it('answers an XML body with 415 and an XML Accept or _format with 406, each with an OperationOutcome', async () => {
    const a = await t.api
      .post('/Patient')
      .set('content-type', 'application/fhir+xml')
      .send('<Patient xmlns="http://hl7.org/fhir"/>');
    assert.equal(a.status, 415);
    assert.equal(a.body.resourceType, 'OperationOutcome');
    const c = await t.api.post('/Patient').send({ resourceType: 'Patient' });
    const b = await t.api.get(`/Patient/${c.body.id}`).set('accept', 'application/fhir+xml');
    assert.equal(b.status, 406);
    assert.equal(JSON.parse(b.text).resourceType, 'OperationOutcome');
    const d = await t.api.get(`/Patient/${c.body.id}?_format=xml`);
    assert.equal(d.status, 406);
    const e = await t.api.get(`/Patient/${c.body.id}?_format=json`);
    assert.equal(e.status, 200);
    const f = await t.api.get(`/Patient/${c.body.id}`).set('accept', 'application/json');
    assert.equal(f.status, 200);
  });

  it('answers a resource that is not a JSON object with 400', async () => {
    for (const body of ['[]', '"Patient"', '42', 'null']) {
      const res = await t.api.post('/Patient').set('content-type', FHIR).send(body);
      assert.equal(res.status, 400, body);
    }
  });

  it('validates with $validate: 200 with errors for an invalid resource, information for a valid one', async () => {
    const bad = await t.api
      .post('/Patient/$validate')
      .send({ resourceType: 'Patient', gender: 'x' });
    assert.equal(bad.status, 200);
    assert.equal(bad.body.issue[0].severity, 'error');
    const good = await t.api.post('/Patient/$validate').send({
      resourceType: 'Parameters',
      parameter: [{ name: 'resource', resource: { resourceType: 'Patient', gender: 'male' } }],
    });
    assert.equal(good.status, 200);
    assert.equal(good.body.issue[0].severity, 'information');
  });
});
