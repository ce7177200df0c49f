import assert from 'node:assert/strict';
import request from 'supertest';
import { seed, startHarness, type Harness } from './support/harness.js';

interface SearchBundle {
  total?: number;
  link?: { relation: string; url: string }[];
  entry: { fullUrl: string; resource: { id: string; subject?: { reference: string } } }[];
}

describe('gateway in front of an external FHIR server (FHIR_UPSTREAM)', () => {
  let h: Harness;
  let agent: ReturnType<typeof request>;
  let patientToken: string;
  let clinicianToken: string;
  before(async () => {
    h = await startHarness({ external: true });
    seed(h.fhir);
    agent = request(h.gw.app.callback());
    patientToken = await h.keys.mint({
      sub: 'p',
      scope: 'patient/*.rs patient/Observation.c',
      patient: '123',
      roles: ['fhir-data-writer'],
    });
    clinicianToken = await h.keys.mint({
      sub: 'c',
      fhirUser: 'Practitioner/pr1',
      scope: 'user/*.cruds',
      roles: ['fhir-data-contributor'],
    });
  });
  after(async () => {
    await h.close();
  });

  it('sends FHIR_UPSTREAM_AUTHORIZATION upstream, never the client token or internal headers', async () => {
    const res = await agent
      .get('/fhir/Patient/123')
      .set('Authorization', `Bearer ${clinicianToken}`);
    assert.equal(res.status, 200);
    const seen = h.fhir.requests.at(-1);
    assert.equal(seen?.headers.authorization, 'Basic dXA6c3RyZWFt');
    assert.equal(seen.headers['x-hearth-constraint'], undefined);
    assert.equal(seen.headers['x-hearth-internal'], undefined);
  });

  it('rewrites the upstream base to the public base in links, fullUrl and Location', async () => {
    const search = await agent
      .get('/fhir/Observation')
      .set('Authorization', `Bearer ${clinicianToken}`);
    const body = search.body as SearchBundle;
    assert.ok(
      body.entry.every((e) => e.fullUrl.startsWith('http://localhost:8080/fhir/Observation/')),
    );
    assert.ok(body.link?.every((l) => l.url.startsWith('http://localhost:8080/fhir/')));
    const created = await agent
      .post('/fhir/Observation')
      .set('Authorization', `Bearer ${clinicianToken}`)
      .set('content-type', 'application/fhir+json')
      .send({
        resourceType: 'Observation',
        status: 'final',
        code: {},
        subject: { reference: 'http://localhost:8080/fhir/Patient/123' },
      });
    assert.equal(created.status, 201);
    assert.match(
      String(created.headers.location),
      /^http:\/\/localhost:8080\/fhir\/Observation\/\d+\/_history\/1$/,
    );
    const stored = h.fhir.requests.at(-1);
    assert.equal(stored?.method, 'POST');
  });

  it('narrows a confined search in the query and filters the answer, dropping total when it filtered', async () => {
    const res = await agent.get('/fhir/Observation').set('Authorization', `Bearer ${patientToken}`);
    assert.equal(res.status, 200);
    assert.match(h.fhir.requests.at(-1)?.url ?? '', /^\/r4\/Patient\/123\/Observation/);
    const body = res.body as SearchBundle;
    assert.ok(body.entry.length >= 1);
    assert.ok(body.entry.every((e) => e.resource.subject?.reference.endsWith('Patient/123')));
  });

  it('removes included resources of other patients and the total with them', async () => {
    h.fhir.put({
      resourceType: 'Observation',
      id: 'o3',
      status: 'final',
      code: {},
      subject: { reference: 'Patient/456' },
      performer: [{ reference: 'Practitioner/pr1' }],
    });
    // A compartment search of the other patient reaches the upstream unchanged; the filter empties it.
    const res = await agent
      .get('/fhir/Patient/456/Observation')
      .set('Authorization', `Bearer ${patientToken}`);
    assert.equal(res.status, 200);
    const body = res.body as SearchBundle;
    assert.equal(body.entry.length, 0);
    assert.equal(body.total, undefined);
  });

  it("answers 404 for another patient's resource, like a missing one", async () => {
    const other = await agent
      .get('/fhir/Observation/o2')
      .set('Authorization', `Bearer ${patientToken}`);
    const missing = await agent
      .get('/fhir/Observation/none')
      .set('Authorization', `Bearer ${patientToken}`);
    assert.equal(other.status, 404);
    assert.equal(missing.status, 404);
    assert.deepEqual(other.body, missing.body);
  });

  it('refuses to create a resource outside the compartment', async () => {
    const res = await agent
      .post('/fhir/Observation')
      .set('Authorization', `Bearer ${patientToken}`)
      .set('content-type', 'application/fhir+json')
      .send({
        resourceType: 'Observation',
        status: 'final',
        code: {},
        subject: { reference: 'Patient/456' },
      });
    assert.equal(res.status, 403);
  });

  it('refuses chains and _has under patient scopes', async () => {
    const res = await agent
      .get('/fhir/Observation?subject.name=Other')
      .set('Authorization', `Bearer ${patientToken}`);
    assert.equal(res.status, 403);
    assert.equal(
      (res.body as { issue: { details: { text: string } }[] }).issue[0]?.details.text,
      'chain-not-enforceable',
    );
  });

  it('audits the patients whose data an upstream answer disclosed', async () => {
    await agent
      .get('/fhir/Observation/o1')
      .set('Authorization', `Bearer ${patientToken}`)
      .set('X-Request-Id', 'ext-read');
    const page = await h.trail.search({
      count: 20,
      offset: 0,
      refs: { patient: [['Patient/123']], entity: [['Observation/o1']] },
    });
    assert.ok(
      page.events.some((e) => e.entity?.some((x) => x.what?.identifier?.value === 'ext-read')),
    );
  });

  it('serves the upstream CapabilityStatement with its URLs rewritten', async () => {
    const res = await agent.get('/fhir/metadata');
    assert.equal(
      (res.body as { implementation: { url: string } }).implementation.url,
      'http://localhost:8080/fhir',
    );
  });
});
