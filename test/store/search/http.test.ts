import assert from 'node:assert/strict';
import {
  CONSTRAINT_HEADER,
  decodeOwners,
  encodeConstraint,
  ENTITIES_HEADER,
  INTERNAL_SECRET_HEADER,
  OWNERS_HEADER,
  PATIENTS_HEADER,
} from '../../../store/protocol.js';
import { describeOnEngines } from '../../support/engines.js';
import { FHIR, testStore, withSearch, type TestStore } from '../helpers.js';

/** Search wired into the real store: router, write path, HTTP. */

const SECRET = 'search-test-secret';

interface Bundle {
  total?: number;
  link?: { relation: string; url: string }[];
  entry?: {
    fullUrl?: string;
    resource: { resourceType: string; id: string };
    search?: { mode: string };
  }[];
}

describeOnEngines('store/search over HTTP', (engine) => {
  let t: TestStore;
  before(async () => {
    t = await testStore({}, { ...withSearch(), internalSecret: SECRET }, engine);
    const post = (body: object) =>
      t.api
        .post(`/fhir/${(body as { resourceType: string }).resourceType}`)
        .set('content-type', FHIR)
        .send(JSON.stringify(body));
    const a = await post({
      resourceType: 'Patient',
      name: [{ family: 'Ångström' }],
      identifier: [{ system: 'urn:mrn', value: 'A' }],
    });
    const b = await post({
      resourceType: 'Patient',
      name: [{ family: 'Brown' }],
      identifier: [{ system: 'urn:mrn', value: 'B' }],
    });
    const ida = (a.body as { id: string }).id;
    const idb = (b.body as { id: string }).id;
    await post({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: `Patient/${ida}` },
    });
    await post({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: `Patient/${idb}` },
    });
  });
  after(() => t.close());

  it('answers GET type search with a searchset Bundle of the stored resources', async () => {
    const res = await t.api.get('/fhir/Patient?name=angstrom').expect(200);
    const bundle = JSON.parse(res.text) as Bundle;
    assert.equal(bundle.total, 1);
    const first = bundle.entry?.[0];
    assert.equal(first?.search?.mode, 'match');
    assert.match(first.fullUrl ?? '', /^http:\/\/fhir\.test\/fhir\/Patient\//);
  });
  it('answers POST _search with form parameters', async () => {
    const res = await t.api
      .post('/fhir/Patient/_search')
      .set('content-type', 'application/x-www-form-urlencoded')
      .send('identifier=urn:mrn|B')
      .expect(200);
    assert.equal((JSON.parse(res.text) as Bundle).total, 1);
  });
  it('re-indexes on update and delete', async () => {
    const found = JSON.parse(
      (await t.api.get('/fhir/Patient?identifier=urn:mrn|B').expect(200)).text,
    ) as Bundle;
    const id = found.entry?.[0]?.resource.id ?? '';
    await t.api
      .put(`/fhir/Patient/${id}`)
      .set('content-type', FHIR)
      .send(
        JSON.stringify({
          resourceType: 'Patient',
          id,
          name: [{ family: 'Braun' }],
          identifier: [{ system: 'urn:mrn', value: 'B' }],
        }),
      )
      .expect(200);
    assert.equal(
      (JSON.parse((await t.api.get('/fhir/Patient?name=braun').expect(200)).text) as Bundle).total,
      1,
    );
    assert.equal(
      (JSON.parse((await t.api.get('/fhir/Patient?name=brown').expect(200)).text) as Bundle).total,
      0,
    );
  });
  it('makes If-None-Exist find the existing resource', async () => {
    const res = await t.api
      .post('/fhir/Patient')
      .set('content-type', FHIR)
      .set('if-none-exist', 'identifier=urn:mrn|A')
      .send(JSON.stringify({ resourceType: 'Patient' }));
    assert.equal(res.status, 200);
  });
  it('resolves conditional references of a transaction to the one matching resource', async () => {
    const tx = (reference: string) =>
      t.api
        .post('/fhir')
        .set('content-type', FHIR)
        .send(
          JSON.stringify({
            resourceType: 'Bundle',
            type: 'transaction',
            entry: [
              {
                fullUrl: 'urn:uuid:0c5e9b52-7a61-4f0e-9d33-0b2d1c0f6a11',
                resource: {
                  resourceType: 'Observation',
                  status: 'final',
                  code: { text: 'conditional reference' },
                  subject: { reference },
                },
                request: { method: 'POST', url: 'Observation' },
              },
            ],
          }),
        );
    await t.api
      .put('/fhir/Patient/conditional-target')
      .set('content-type', FHIR)
      .send(
        JSON.stringify({
          resourceType: 'Patient',
          id: 'conditional-target',
          identifier: [{ system: 'urn:mrn', value: 'Z' }],
        }),
      )
      .expect(201);
    const ok = await tx('Patient?identifier=urn:mrn|Z');
    assert.equal(ok.status, 200, ok.text);
    const location = (ok.body as { entry: { response: { location: string } }[] }).entry[0]?.response
      .location;
    const id = /Observation\/([^/]+)/.exec(location ?? '')?.[1] ?? '';
    const stored = JSON.parse((await t.api.get(`/fhir/Observation/${id}`).expect(200)).text) as {
      subject: { reference: string };
    };
    assert.equal(stored.subject.reference, 'Patient/conditional-target');
    assert.equal((await tx('Patient?identifier=urn:mrn|nobody')).status, 412);
  });
  it('answers an unknown parameter with 400 under Prefer: handling=strict', async () => {
    await t.api.get('/fhir/Patient?bogus=1').set('prefer', 'handling=strict').expect(400);
    const lenient = JSON.parse(
      (await t.api.get('/fhir/Patient?bogus=1').expect(200)).text,
    ) as Bundle;
    assert.ok(lenient.entry?.some((e) => e.search?.mode === 'outcome'));
  });
  it('keeps a trusted caller inside its constraint for search and $everything', async () => {
    const pats = JSON.parse(
      (await t.api.get('/fhir/Patient?identifier=urn:mrn|A').expect(200)).text,
    ) as Bundle;
    const ida = pats.entry?.[0]?.resource.id ?? '';
    const other = JSON.parse(
      (await t.api.get('/fhir/Patient?identifier=urn:mrn|B').expect(200)).text,
    ) as Bundle;
    const idb = other.entry?.[0]?.resource.id ?? '';
    const headers = {
      [INTERNAL_SECRET_HEADER]: SECRET,
      [CONSTRAINT_HEADER]: encodeConstraint({ types: { '*': { compartment: `Patient/${ida}` } } }),
    };
    const obs = JSON.parse(
      (await t.api.get('/fhir/Observation?_include=Observation:subject').set(headers).expect(200))
        .text,
    ) as Bundle;
    assert.equal(obs.total, 1);
    assert.ok(
      obs.entry?.every((e) => e.resource.id === ida || e.resource.resourceType === 'Observation'),
    );
    await t.api.get(`/fhir/Patient/${idb}/$everything`).set(headers).expect(404);
    const all = JSON.parse(
      (await t.api.get(`/fhir/Patient/${ida}/$everything`).set(headers).expect(200)).text,
    ) as Bundle;
    assert.equal(all.entry?.length, 2);
  });
  it('tells a trusted caller which disclosed resource belongs to which patient (x-hearth-owners)', async () => {
    const made: Record<string, string> = {};
    for (const [key, subject] of [
      ['a', 'Patient/own-a'],
      ['b', 'Patient/own-b'],
      ['none', 'Group/g-1'],
    ] as const) {
      const c = await t.api
        .post('/fhir/Observation')
        .set('content-type', FHIR)
        .send(
          JSON.stringify({
            resourceType: 'Observation',
            status: 'final',
            code: { coding: [{ system: 'urn:test', code: 'owners' }] },
            subject: { reference: subject },
          }),
        )
        .expect(201);
      made[key] = `Observation/${(JSON.parse(c.text) as { id: string }).id}/_history/1`;
    }
    const res = await t.api
      .get('/fhir/Observation?code=urn:test|owners')
      .set(INTERNAL_SECRET_HEADER, SECRET)
      .expect(200);
    const entities = String(res.headers[ENTITIES_HEADER]).split(',');
    const patients = String(res.headers[PATIENTS_HEADER]).split(',');
    const owners = res.headers[OWNERS_HEADER];
    assert.deepEqual(
      decodeOwners(entities, patients, owners),
      new Map([
        ['own-a', [made.a]],
        ['own-b', [made.b]],
      ]),
    );
    assert.ok(entities.includes(made.none ?? ''), 'a resource of no patient is still disclosed');
  });
  it('refuses a SearchParameter whose expression does not compile', async () => {
    const sp = {
      resourceType: 'SearchParameter',
      url: 'http://x/sp/bad',
      name: 'bad',
      code: 'bad',
      base: ['Patient'],
      type: 'string',
      status: 'active',
      description: 'bad',
      expression: 'Patient.name.where(',
    };
    const res = await t.api
      .post('/fhir/SearchParameter')
      .set('content-type', FHIR)
      .send(JSON.stringify(sp));
    assert.equal(res.status, 400);
    assert.equal(
      (JSON.parse(res.text) as { resourceType: string }).resourceType,
      'OperationOutcome',
    );
    const good = {
      ...sp,
      url: 'http://x/sp/good',
      code: 'good',
      expression: 'Patient.name.family',
    };
    await t.api
      .post('/fhir/SearchParameter')
      .set('content-type', FHIR)
      .send(JSON.stringify(good))
      .expect(201);
  });
  it('lists search parameters in the CapabilityStatement', async () => {
    const cs = JSON.parse((await t.api.get('/fhir/metadata').expect(200)).text) as {
      rest: { resource: { type: string; searchParam?: { name: string }[] }[] }[];
    };
    const patient = cs.rest[0]?.resource.find((r) => r.type === 'Patient');
    assert.ok(patient?.searchParam?.some((p) => p.name === 'birthdate'));
    assert.ok(!patient?.searchParam?.some((p) => p.name === '_text'));
  });
});
