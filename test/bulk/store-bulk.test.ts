import assert from 'node:assert/strict';
import { INTERNAL_SECRET_HEADER } from '../../store/protocol.js';
import { describeOnEngines } from '../support/engines.js';
import { FHIR, testStore, type TestStore } from '../store/helpers.js';

/** The store's trusted bulk endpoints: the export stream and the versioned import. */

const SECRET = 'bulk-test-secret';

describeOnEngines('store bulk endpoints', function (engine) {
  let t: TestStore;
  before(async () => {
    t = await testStore({}, { internalSecret: SECRET }, engine);
    for (const [type, body] of [
      ['Patient/p1', { resourceType: 'Patient', id: 'p1' }],
      ['Patient/p2', { resourceType: 'Patient', id: 'p2' }],
      [
        'Observation/o1',
        {
          resourceType: 'Observation',
          id: 'o1',
          status: 'final',
          code: { text: 'a' },
          subject: { reference: 'Patient/p1' },
        },
      ],
      [
        'Observation/o2',
        {
          resourceType: 'Observation',
          id: 'o2',
          status: 'preliminary',
          code: { text: 'b' },
          subject: { reference: 'Patient/p2' },
        },
      ],
    ] as const) {
      await t.api
        .put(`/fhir/${type}`)
        .set('content-type', FHIR)
        .send(JSON.stringify(body))
        .expect(201);
    }
  });
  after(async () => t.close());

  const exportLines = async (q: object): Promise<string[]> => {
    const res = await t.api
      .post('/_bulk/export')
      .set(INTERNAL_SECRET_HEADER, SECRET)
      .set('content-type', 'application/json')
      .send(JSON.stringify(q))
      .buffer(true)
      .parse((r, cb) => {
        let s = '';
        r.on('data', (c: Buffer) => {
          s += c.toString();
        });
        r.on('end', () => {
          cb(null, s);
        });
      });
    assert.equal(res.status, 200);
    return (res.body as string).split('\n').filter((l) => l !== '');
  };

  it('is not reachable without the trusted-caller secret', async () => {
    const res = await t.api
      .post('/_bulk/export')
      .set('content-type', 'application/json')
      .send('{"type":"Patient"}');
    assert.notEqual(res.status, 200);
  });

  it('streams one type in rid order as "<rid> <resource>" lines and resumes after a cursor', async () => {
    const lines = await exportLines({ type: 'Patient', afterRid: 0 });
    assert.equal(lines.length, 2);
    const first = Number(lines[0]?.split(' ')[0]);
    const rest = await exportLines({ type: 'Patient', afterRid: first });
    assert.equal(rest.length, 1);
    assert.match(rest[0] ?? '', /"id":"p2"/);
  });

  it("keeps only the given patients' compartments and resources matching _typeFilter", async () => {
    const mine = await exportLines({ type: 'Observation', afterRid: 0, patients: ['p1'] });
    assert.equal(mine.filter((l) => l.includes(' {')).length, 1);
    assert.match(mine.find((l) => l.includes(' {')) ?? '', /"id":"o1"/);
    const prelim = await exportLines({
      type: 'Observation',
      afterRid: 0,
      typeFilters: ['status=preliminary'],
    });
    assert.deepEqual(
      prelim.filter((l) => l.includes(' {')).map((l) => /"id":"(\w+)"/.exec(l)?.[1]),
      ['o2'],
    );
  });

  it('imports keeping versionId and lastUpdated, idempotently, and reports per-line errors', async () => {
    const line =
      '{"resourceType":"Patient","id":"v1","meta":{"versionId":"7","lastUpdated":"2020-01-02T03:04:05.678Z"},"birthDate":"1970-01-01"}';
    const post = (body: string) =>
      t.api
        .post('/_bulk/import?mode=IncrementalLoad')
        .set(INTERNAL_SECRET_HEADER, SECRET)
        .set('content-type', 'application/x-ndjson')
        .send(body);
    const first = await post(`${line}\nnot json\n`);
    assert.equal(first.status, 200);
    const results = (first.body as { results: { outcome: string }[] }).results;
    assert.deepEqual(
      results.map((r) => r.outcome),
      ['created', 'error'],
    );
    const again = await post(`${line}\n`);
    assert.equal(
      (again.body as { results: { outcome: string }[] }).results[0]?.outcome,
      'unchanged',
    );
    const read = await t.api.get('/fhir/Patient/v1').expect(200);
    const meta = (JSON.parse(read.text) as { meta: { versionId: string; lastUpdated: string } })
      .meta;
    assert.equal(meta.versionId, '7');
    assert.equal(meta.lastUpdated, '2020-01-02T03:04:05.678Z');
    const clash = await post(line.replace('1970', '1980') + '\n');
    assert.equal((clash.body as { results: { outcome: string }[] }).results[0]?.outcome, 'error');
  });
});
