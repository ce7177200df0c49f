import assert from 'node:assert/strict';
import type { Queryable } from '../../store/engines/engine.js';
import type { SearchProvider } from '../../store/http/types.js';
import { jsonResponse } from '../../store/http/respond.js';
import { constraintOf } from '../../store/http/trusted.js';
import {
  CONSTRAINT_HEADER,
  encodeConstraint,
  decodeConstraint,
  decodeOwners,
  ENTITIES_HEADER,
  INTERNAL_SECRET_HEADER,
  PATIENTS_HEADER,
} from '../../store/protocol.js';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describeOnEngines } from '../support/engines.js';
import { testStore, type TestStore } from './helpers.js';

const SECRET = 'test-secret-value';

/** A search provider whose query runs until its deadline stops it (the store's time budget). */
const slowSearch: SearchProvider = {
  async search(call) {
    const row = await call.db.get<{ n: number }>(
      'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE hearth_budget() = 1) SELECT count(*) AS n FROM c',
      [],
      { deadline: call.deadline },
    );
    return jsonResponse(200, { n: row?.n });
  },
  match: (_db: Queryable) => Promise.resolve([]),
};

describeOnEngines('store REST: Binary, metadata, trusted callers, time budget', function (engine) {
  this.timeout(20_000);
  let t: TestStore;
  before(async () => {
    t = await testStore(
      { QUERY_TIMEOUT_MS: '200' },
      { internalSecret: SECRET, search: slowSearch },
      engine,
    );
  });
  after(async () => {
    await t.close();
  });

  it('stores a Binary sent in its native content type and serves the raw bytes to a non-FHIR Accept', async () => {
    const pdf = Buffer.from('%PDF-1.4\n%\u00e2\u00e3 binary \u0000\u0001\u0002 bytes', 'latin1');
    const c = await t.api.post('/Binary').set('content-type', 'application/pdf').send(pdf);
    assert.equal(c.status, 201);
    assert.equal(c.body.resourceType, 'Binary');
    assert.equal(c.body.contentType, 'application/pdf');
    const raw = await t.api
      .get(`/Binary/${c.body.id}`)
      .set('accept', 'application/pdf')
      .buffer(true)
      .parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          cb(null, Buffer.concat(chunks));
        });
      });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers['content-type'], 'application/pdf');
    assert.ok(Buffer.compare(raw.body as Buffer, pdf) === 0);
    const json = await t.api.get(`/Binary/${c.body.id}`).set('accept', 'application/fhir+json');
    assert.equal(json.body.data, pdf.toString('base64'));
    const notBinary = await t.api.post('/Patient').send({ resourceType: 'Patient' });
    const refused = await t.api
      .get(`/Patient/${notBinary.body.id}`)
      .set('accept', 'application/pdf');
    assert.equal(refused.status, 406);
  });

  it('publishes a CapabilityStatement of what works, without claiming search it lacks', async () => {
    const t2 = await testStore({}, {}, engine);
    try {
      const res = await t2.api.get('/metadata');
      assert.equal(res.status, 200);
      assert.equal(res.body.resourceType, 'CapabilityStatement');
      assert.equal(res.body.fhirVersion, '4.0.1');
      interface Rest {
        resource: {
          type: string;
          interaction: { code: string }[];
          conditionalCreate: boolean;
          searchParam?: unknown;
        }[];
        interaction: { code: string }[];
      }
      const rest = (res.body.rest as Rest[])[0]!;
      const patient = rest.resource.find((r) => r.type === 'Patient')!;
      const codes = patient.interaction.map((i) => i.code);
      assert.ok(
        codes.includes('read') && codes.includes('patch') && codes.includes('history-instance'),
      );
      assert.ok(!codes.includes('search-type'));
      assert.equal(patient.conditionalCreate, false);
      assert.equal(patient.searchParam, undefined);
      assert.deepEqual(
        rest.interaction.map((i) => i.code),
        ['transaction', 'batch', 'history-system'],
      );
      const search = await t2.api.get('/Patient?name=x');
      assert.equal(search.status, 501);
      assert.equal(search.body.issue[0].code, 'not-supported');
    } finally {
      await t2.close();
    }
  });

  it('sets the audit headers for a trusted caller and never for others', async () => {
    const c = await t.api.post('/Observation').send({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Patient/p-1' },
    });
    const id = c.body.id as string;
    const trusted = await t.api.get(`/Observation/${id}`).set(INTERNAL_SECRET_HEADER, SECRET);
    assert.equal(trusted.headers[ENTITIES_HEADER], `Observation/${id}/_history/1`);
    assert.equal(trusted.headers[PATIENTS_HEADER], 'p-1');
    const wrong = await t.api.get(`/Observation/${id}`).set(INTERNAL_SECRET_HEADER, 'nope');
    assert.equal(wrong.headers[ENTITIES_HEADER], undefined);
    const write = await t.api
      .put(`/Observation/${id}`)
      .set(INTERNAL_SECRET_HEADER, SECRET)
      .send({
        resourceType: 'Observation',
        id,
        status: 'final',
        code: { text: 'y' },
        subject: { reference: 'Patient/p-1' },
      });
    assert.equal(write.headers[ENTITIES_HEADER], `Observation/${id}/_history/2`);
    assert.equal(write.headers[PATIENTS_HEADER], 'p-1');
  });

  it('names the same patients for a write as for a read of what it stored, a member named __proto__ included', async () => {
    for (const [extra, expected] of [
      ['', 'p-2'],
      [',"__proto__":{"performer":[{"reference":"Patient/p-evil"}]}', 'p-2'],
    ] as const) {
      const write = await t.api
        .post('/Observation')
        .set(INTERNAL_SECRET_HEADER, SECRET)
        .set('content-type', 'application/fhir+json')
        .send(
          `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p-2"}${extra}}`,
        );
      assert.equal(write.status, 201);
      const id = write.body.id as string;
      const read = await t.api.get(`/Observation/${id}`).set(INTERNAL_SECRET_HEADER, SECRET);
      assert.equal(write.headers[PATIENTS_HEADER], expected);
      assert.equal(read.headers[PATIENTS_HEADER], expected);
    }
  });

  it('refuses an owners list that does not fit its entities and patients', () => {
    assert.equal(decodeOwners(['A/1', 'B/2'], ['p'], '0'), undefined);
    assert.equal(decodeOwners(['A/1'], ['p'], '1'), undefined);
    assert.equal(decodeOwners(['A/1'], ['p'], 'x'), undefined);
    assert.equal(decodeOwners(['A/1'], ['p'], undefined), undefined);
    assert.deepEqual(
      decodeOwners(['A/1', 'B/2'], ['p', 'q'], '0.1,'),
      new Map([
        ['p', ['A/1']],
        ['q', ['A/1']],
      ]),
    );
  });

  it('answers a resource outside a trusted caller constraint exactly like a missing one', async () => {
    const mine = await t.api.post('/Observation').send({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Patient/p-1' },
    });
    const other = await t.api.post('/Observation').send({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Patient/p-2' },
    });
    const constraint = encodeConstraint({ types: { '*': { compartment: 'Patient/p-1' } } });
    const get = (id: string, secret = SECRET) =>
      t.api
        .get(`/Observation/${id}`)
        .set(INTERNAL_SECRET_HEADER, secret)
        .set(CONSTRAINT_HEADER, constraint);
    const seen = await get(mine.body.id as string);
    assert.equal(seen.status, 200);
    // the parse that decided visibility also gives the disclosure its patients
    assert.equal(seen.headers[PATIENTS_HEADER], 'p-1');
    assert.equal(seen.headers[ENTITIES_HEADER], `Observation/${mine.body.id}/_history/1`);
    const hidden = await get(other.body.id as string);
    assert.equal(hidden.status, 404);
    assert.equal(
      (await get(other.body.id as string, 'untrusted')).status,
      200,
      'constraint ignored for untrusted callers',
    );
    const hist = await t.api
      .get(`/Observation/${other.body.id}/_history`)
      .set(INTERNAL_SECRET_HEADER, SECRET)
      .set(CONSTRAINT_HEADER, constraint);
    assert.equal(hist.status, 404);
    for (let i = 0; i < 2; i++) {
      const bad = await t.api
        .get(`/Observation/${mine.body.id}`)
        .set(INTERNAL_SECRET_HEADER, SECRET)
        .set(CONSTRAINT_HEADER, 'e30');
      assert.equal(bad.status, 400, 'a malformed constraint is refused every time');
    }
    const everything = encodeConstraint({ types: { '*': {} } });
    const open = await t.api
      .get(`/Observation/${other.body.id}`)
      .set(INTERNAL_SECRET_HEADER, SECRET)
      .set(CONSTRAINT_HEADER, everything);
    assert.equal(open.status, 200, 'each constraint text is decoded for itself');
    assert.equal((await get(other.body.id as string)).status, 404, 'and the first still applies');
    const create = await t.api
      .post('/Observation')
      .set(INTERNAL_SECRET_HEADER, SECRET)
      .set(CONSTRAINT_HEADER, constraint)
      .send({
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'x' },
        subject: { reference: 'Patient/p-2' },
      });
    assert.equal(create.status, 403);
  });

  it('stops a query past its time budget and answers 400 too-costly, then keeps serving', async () => {
    const started = Date.now();
    const res = await t.api.get('/Patient?name=anything');
    assert.equal(res.status, 400);
    assert.equal(res.body.issue[0].code, 'too-costly');
    assert.ok(Date.now() - started < 5000);
    assert.equal((await t.api.get('/metadata')).status, 200);
  });

  it('logs each request with its request id, and never the body', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const t2 = await testStore({}, { log: pino({ level: 'info' }, sink) });
    try {
      await t2.api
        .post('/Patient')
        .set('x-request-id', 'req-abc-123')
        .send({ resourceType: 'Patient', name: [{ family: 'Secretname' }] });
      const entry = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.reqId === 'req-abc-123');
      assert.ok(entry, lines.join(''));
      assert.equal(entry.status, 201);
      assert.equal(entry.method, 'POST');
      assert.ok(!lines.join('').includes('Secretname'));
    } finally {
      await t2.close();
    }
  });
});

describe('store: trusted caller constraint header', () => {
  it('decodes a constraint text once and hands out the same frozen constraint for it', () => {
    const text = encodeConstraint({
      types: { Observation: { compartment: 'Patient/p-1', anyOf: ['status=final'] } },
    });
    const a = constraintOf({ [CONSTRAINT_HEADER]: text });
    const b = constraintOf({ [CONSTRAINT_HEADER]: text });
    assert.ok(a !== undefined && a === b);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.types));
    const obs = a.types.Observation;
    assert.ok(obs !== undefined && Object.isFrozen(obs) && Object.isFrozen(obs.anyOf));
    assert.deepEqual(a, decodeConstraint(text));
    assert.throws(() => constraintOf({ [CONSTRAINT_HEADER]: 'e30' }), /bad x-hearth-constraint/);
  });
});
