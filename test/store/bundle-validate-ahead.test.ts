import assert from 'node:assert/strict';
import { searchIndexer } from '../../store/search/index.js';
import { importLines } from '../../store/bulk/import-lines.js';
import { ValidatorThread } from '../../store/bundle/validator-thread.js';
import { parseJson, plainView } from '../../store/fhir/json.js';
import { validateFhirResource } from '../../store/fhir/validate.js';
import { describeOnEngines } from '../support/engines.js';
import { testStore, withSearch, type TestStore } from './helpers.js';

const uuid = (n: number) => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const patient = (n: number, extra: Record<string, unknown> = {}): Entry => ({
  fullUrl: uuid(n),
  resource: { resourceType: 'Patient', name: [{ family: `F${n}` }], ...extra },
  request: { method: 'POST', url: 'Patient' },
});
const observation = (n: number, subject: string, extra: Record<string, unknown> = {}): Entry => ({
  fullUrl: uuid(n),
  resource: {
    resourceType: 'Observation',
    status: 'final',
    code: { text: `c${n}` },
    subject: { reference: subject },
    ...extra,
  },
  request: { method: 'POST', url: 'Observation' },
});
interface Entry {
  fullUrl?: string;
  resource?: Record<string, unknown>;
  request: { method: string; url: string; ifNoneExist?: string };
}
const bundle = (type: string, entry: Entry[]) => ({ resourceType: 'Bundle', type, entry });

/** What a Bundle response says, without what differs from run to run (ids, times, ETags). */
function shape(body: Record<string, unknown>): unknown {
  return JSON.parse(
    JSON.stringify(body)
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID')
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'TIME')
      .replace(/W\/"\d+"/g, 'ETAG'),
  ) as unknown;
}

describeOnEngines('store: Bundle entries validated ahead on a thread', function (engine) {
  this.timeout(30_000);
  let ahead: TestStore;
  let inline: TestStore;
  before(async () => {
    const search = withSearch();
    ahead = await testStore({}, search, engine);
    inline = await testStore({}, { ...search, validatorThread: false }, engine);
    await ahead.store.context.validator?.ready();
  });
  after(async () => {
    await ahead.close();
    await inline.close();
  });

  /** Posts the Bundle to both stores; their answers must agree. */
  async function both(b: object): Promise<{ status: number; body: Record<string, unknown> }> {
    const a = await ahead.api.post('/').set('content-type', 'application/fhir+json').send(b);
    const i = await inline.api.post('/').set('content-type', 'application/fhir+json').send(b);
    assert.equal(a.status, i.status, JSON.stringify(a.body));
    assert.deepEqual(
      shape(a.body as Record<string, unknown>),
      shape(i.body as Record<string, unknown>),
    );
    return { status: a.status, body: a.body as Record<string, unknown> };
  }

  it('answers a valid transaction as the event loop does, and the thread did the validating', async () => {
    const before = ahead.store.context.validator?.answered ?? 0;
    const r = await both(
      bundle('transaction', [
        patient(1),
        observation(2, uuid(1)),
        observation(3, uuid(1), { note: [{ text: `see ${uuid(1)}` }] }),
        observation(4, uuid(1)),
      ]),
    );
    assert.equal(r.status, 200);
    assert.equal(ahead.store.context.validator?.answered, before + 1);
    assert.equal(inline.store.context.validator, undefined);
  });

  it('fails a transaction on its first invalid entry with the same OperationOutcome', async () => {
    const r = await both(
      bundle('transaction', [
        patient(11),
        observation(12, uuid(11), { status: 'no-such-status' }),
        observation(13, uuid(11), { unknownElement: true }),
        patient(14, { gender: 42 }),
      ]),
    );
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body), /Bundle\.entry\[1\]/);
  });

  it('answers each invalid entry of a batch on its own, the same way', async () => {
    const r = await both(
      bundle('batch', [
        patient(21),
        observation(22, 'Patient/x', { status: 'no-such-status' }),
        patient(23, { birthDate: 'not a date' }),
        patient(24),
        { request: { method: 'POST', url: 'Patient' } },
      ]),
    );
    assert.equal(r.status, 200);
    const statuses = (r.body.entry as { response: { status: string } }[]).map(
      (e) => e.response.status.split(' ')[0],
    );
    assert.deepEqual(statuses, ['201', '400', '400', '201', '400']);
  });

  it('validates on the event loop once a conditional create changes what a placeholder means', async () => {
    const existing = { resourceType: 'Patient', identifier: [{ system: 'urn:s', value: 'v1' }] };
    for (const t of [ahead, inline])
      await t.api.post('/Patient').set('content-type', 'application/fhir+json').send(existing);
    const cond = {
      ...patient(31, { identifier: [{ system: 'urn:s', value: 'v1' }] }),
      request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:s|v1' },
    };
    const ok = await both(
      bundle('transaction', [
        cond,
        observation(32, uuid(31)),
        observation(33, uuid(31)),
        patient(34),
      ]),
    );
    assert.equal(ok.status, 200);
    const bad = await both(
      bundle('transaction', [
        cond,
        observation(35, uuid(31)),
        observation(36, uuid(31), { status: 'x' }),
        patient(37),
      ]),
    );
    assert.equal(bad.status, 400);
  });
});

describeOnEngines('store: $import lines validated ahead on a thread', function (engine) {
  this.timeout(30_000);
  it('imports a batch with the results of validating each line on the event loop', async () => {
    const search = withSearch();
    const ahead = await testStore({}, search, engine);
    const inline = await testStore({}, { ...search, validatorThread: false }, engine);
    await ahead.store.context.validator?.ready();
    try {
      const lines = Array.from({ length: 80 }, (_, i) => {
        if (i % 17 === 3) return '';
        if (i % 13 === 5) return '{"resourceType": "Patient", "id": ';
        const extra = i % 7 === 2 ? { gender: 'sometimes' } : i % 11 === 4 ? { birthDate: 7 } : {};
        return JSON.stringify({ resourceType: 'Patient', id: `p${i}`, ...extra });
      });
      const text = `${lines.join('\n')}\n`;
      const before = ahead.store.context.validator?.answered ?? 0;
      const a = await importLines(ahead.store.context, searchIndexer, text, 'InitialLoad');
      const i = await importLines(inline.store.context, searchIndexer, text, 'InitialLoad');
      assert.deepEqual(a, i);
      assert.equal(ahead.store.context.validator?.answered, before + Math.ceil(80 / 25));
      const outcomes = new Set(a.map((r) => r.outcome));
      for (const o of ['created', 'empty', 'error']) assert.ok(outcomes.has(o as never), o);
      assert.ok(a.some((r) => r.issues?.some((x) => /gender|birthDate/.test(JSON.stringify(x)))));
    } finally {
      await ahead.close();
      await inline.close();
    }
  });
});

describe('store: the Bundle validator thread', () => {
  it('answers undefined at once while the thread is not warm, and starts it', async () => {
    const v = new ValidatorThread();
    try {
      const b = Buffer.from(JSON.stringify(bundle('batch', [patient(1)])));
      assert.equal(await v.validateEntries(b, new Map()), undefined);
      assert.equal(await v.validateLines(['{"resourceType":"Patient"}']), undefined);
      await v.ready();
      assert.deepEqual(await v.validateEntries(b, new Map()), [[]]);
      assert.equal(v.answered, 1);
    } finally {
      await v.close();
    }
  });

  it('gives each POST and PUT entry the issues the event loop finds, placeholders rewritten', async () => {
    const v = new ValidatorThread();
    await v.ready();
    try {
      const b = bundle('transaction', [
        patient(1),
        observation(2, uuid(1), { status: 'nope' }),
        { request: { method: 'DELETE', url: 'Patient/x' } },
        { ...patient(3, { active: 'yes' }), request: { method: 'PUT', url: 'Patient/p3' } },
      ]);
      const map = new Map([[uuid(1), 'Patient/abc']]);
      const got = await v.validateEntries(Buffer.from(JSON.stringify(b)), map);
      const want = b.entry.map((e) =>
        e.resource !== undefined && e.request.method !== 'DELETE'
          ? validateFhirResource(
              plainView(parseJson(JSON.stringify(e.resource).split(uuid(1)).join('Patient/abc'))),
            )
          : null,
      );
      assert.deepEqual(got, want);
      assert.equal(want[0]?.length, 0);
      assert.ok((want[1]?.length ?? 0) > 0);
      assert.ok((want[3]?.length ?? 0) > 0);
    } finally {
      await v.close();
    }
  });

  it('answers undefined (the caller validates) when the thread stops before answering', async () => {
    const v = new ValidatorThread();
    await v.ready();
    // Enough invalid entries (each takes Medplum's full validator) to keep the thread busy well
    // past the stop: one entry was answered before the stop took effect now and then.
    const entries = Array.from({ length: 2000 }, (_, i) => patient(i, { active: 'yes' }));
    const pending = v.validateEntries(
      Buffer.from(JSON.stringify(bundle('batch', entries))),
      new Map(),
    );
    await v.close();
    assert.equal(await pending, undefined);
  });
});
