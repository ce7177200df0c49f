import assert from 'node:assert/strict';
import { BASE, ids, search } from './support/run-search.js';
import { describeOnEngines } from '../../support/engines.js';
import { TestStore } from './support/test-store.js';

/** Sorting, paging under concurrent writes, totals, summary/elements, includes, unsupported parameters. */

const next = (links: { relation: string; url: string }[], rel = 'next') =>
  links.find((l) => l.relation === rel)?.url.slice(BASE.length + 1);

describeOnEngines('store/search results', (engine) => {
  let store: TestStore;
  before(async () => {
    store = await new TestStore(engine).init();
    const names = ['Eve', 'Bob', 'Dora', 'Ann', 'Carl', 'Bob'];
    for (let i = 0; i < names.length; i++) {
      await store.put({
        resourceType: 'Patient',
        id: `p${i}`,
        name: [{ family: names[i], given: ['Z', 'A'] }],
        birthDate: `19${50 + i}-01-01`,
        gender: i % 2 === 0 ? 'female' : 'male',
        managingOrganization: { reference: 'Organization/org' },
      });
    }
    await store.put({
      resourceType: 'Organization',
      id: 'org',
      name: 'Acme',
      partOf: { reference: 'Organization/parent' },
    });
    await store.put({ resourceType: 'Organization', id: 'parent', name: 'Acme Holding' });
  });
  after(() => store.close());

  it('sorts by several fields with a stable tie-breaker', async () => {
    assert.deepEqual(await ids(store, 'Patient?_sort=family,-birthdate', {}, true), [
      'p3',
      'p5',
      'p1',
      'p4',
      'p2',
      'p0',
    ]);
    assert.deepEqual(await ids(store, 'Patient?_sort=-gender,family', {}, true), [
      'p3',
      'p1',
      'p5',
      'p4',
      'p2',
      'p0',
    ]);
  });
  it('pages with self, first, next, previous and last links', async () => {
    const p1 = await search(store, 'Patient?_sort=family&_count=2');
    assert.deepEqual(
      p1.entries.map((e) => e.id),
      ['p3', 'p1'],
    );
    // more than one page and no _total: the total is left out rather than counted
    assert.equal(p1.total, undefined);
    assert.deepEqual(
      p1.links.map((l) => l.relation),
      ['self', 'first', 'next', 'last'],
    );
    const p2 = await search(store, next(p1.links) ?? '');
    assert.deepEqual(
      p2.entries.map((e) => e.id),
      ['p5', 'p4'],
    );
    const back = await search(store, next(p2.links, 'previous') ?? '');
    assert.deepEqual(
      back.entries.map((e) => e.id),
      ['p3', 'p1'],
    );
    const last = await search(store, next(p1.links, 'last') ?? '');
    assert.deepEqual(
      last.entries.map((e) => e.id),
      ['p2', 'p0'],
    );
  });
  it('never repeats or skips a resource whose sort key did not change while others are written', async () => {
    const first = await search(store, 'Patient?_sort=family&_count=3');
    await store.put({ resourceType: 'Patient', id: 'late', name: [{ family: 'Aaron' }] });
    await store.put({
      resourceType: 'Patient',
      id: 'p2',
      name: [{ family: 'Dora' }],
      birthDate: '1952-01-01',
      gender: 'female',
      active: true,
    });
    const second = await search(store, next(first.links) ?? '');
    const all = [...first.entries, ...second.entries].map((e) => e.id);
    assert.deepEqual(all, ['p3', 'p1', 'p5', 'p4', 'p2', 'p0']);
    await store.remove('Patient', 'late');
  });
  it('gives the total without counting when the first page holds every match', async () => {
    assert.equal((await search(store, 'Patient?gender=female')).total, 3);
    assert.equal((await search(store, 'Patient?gender=female&_total=none')).total, undefined);
  });
  it('honours _total=none and _summary=count', async () => {
    assert.equal((await search(store, 'Patient?_total=none')).total, undefined);
    assert.equal((await search(store, 'Patient?_total=accurate&_count=2')).total, 6);
    assert.equal((await search(store, 'Patient?_total=estimate&_count=2')).total, 6);
    const c = await search(store, 'Patient?gender=female&_summary=count');
    assert.equal(c.total, 3);
    assert.equal(c.entries.length, 0);
  });
  it('trims entries for _elements and _summary and marks them SUBSETTED', async () => {
    const p = await search(store, 'Patient?_id=p0&_elements=gender');
    const r = JSON.parse(p.entries[0]?.json ?? '{}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(r).sort(), ['gender', 'id', 'meta', 'resourceType']);
    assert.match(JSON.stringify(r.meta), /SUBSETTED/);
    const s = await search(store, 'Patient?_id=p0&_summary=true');
    const rs = JSON.parse(s.entries[0]?.json ?? '{}') as Record<string, unknown>;
    assert.ok('name' in rs && 'birthDate' in rs);
  });
  it('keeps text and mandatory elements for _summary=text, and drops text for _summary=data', async () => {
    await store.put({
      resourceType: 'Observation',
      id: 'sum',
      status: 'final',
      code: { text: 'c' },
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' },
      valueQuantity: { value: 1 },
    });
    const t = JSON.parse(
      (await search(store, 'Observation?_id=sum&_summary=text')).entries[0]?.json ?? '{}',
    ) as Record<string, unknown>;
    assert.deepEqual(Object.keys(t).sort(), [
      'code',
      'id',
      'meta',
      'resourceType',
      'status',
      'text',
    ]);
    const d = JSON.parse(
      (await search(store, 'Observation?_id=sum&_summary=data')).entries[0]?.json ?? '{}',
    ) as Record<string, unknown>;
    assert.ok(!('text' in d) && 'valueQuantity' in d);
    await store.remove('Observation', 'sum');
  });
  it('returns the stored JSON text verbatim when no trimming applies', async () => {
    const p = await search(store, 'Patient?_id=p1');
    const row = await store.engine.get<{ json: string }>('SELECT json FROM resource WHERE id = ?', [
      'p1',
    ]);
    assert.equal(p.entries[0]?.json, row?.json);
  });
  it('follows _include:iterate and marks included entries', async () => {
    const p = await search(
      store,
      'Patient?_id=p0&_include=Patient:organization&_include:iterate=Organization:partof',
    );
    assert.deepEqual(
      p.entries.map((e) => `${e.mode}:${e.id}`),
      ['match:p0', 'include:org', 'include:parent'],
    );
    const star = await search(store, 'Patient?_id=p0&_include=*');
    assert.deepEqual(
      star.entries.map((e) => e.id),
      ['p0', 'org'],
    );
  });
  it('limits included resources per page with a warning', async () => {
    const p = await search(store, 'Organization?_id=org&_revinclude=Patient:organization', {
      limits: { maxIncludes: 2 },
    });
    assert.equal(p.entries.filter((e) => e.mode === 'include').length, 2);
    assert.ok(p.issues.some((i) => i.code === 'too-costly'));
  });
  it('answers unsupported parameters with 400 under strict and a warning under lenient', async () => {
    await assert.rejects(
      search(store, 'Patient?_text=x', { strict: true }),
      (e: { status?: number }) => e.status === 400,
    );
    await assert.rejects(
      search(store, 'Patient?identifier:of-type=x', { strict: true }),
      (e: { status?: number }) => e.status === 400,
    );
    const lenient = await search(store, 'Patient?_filter=x&nonsense=1&gender=male');
    assert.equal(lenient.issues.filter((i) => i.severity === 'warning').length, 2);
    assert.deepEqual(lenient.entries.map((e) => e.id).sort(), ['p1', 'p3', 'p5']);
  });
  it('rejects malformed values whatever the handling', async () => {
    await assert.rejects(
      search(store, 'Patient?birthdate=notadate'),
      (e: { status?: number }) => e.status === 400,
    );
    await assert.rejects(
      search(store, 'Patient?gender:bogus=x'),
      (e: { status?: number }) => e.status === 400,
    );
  });
  it('searches across types with _type and in a compartment', async () => {
    const sys = await search(store, '?_type=Organization,Patient&_id=org,p0');
    assert.deepEqual(sys.entries.map((e) => e.id).sort(), ['org', 'p0']);
    const all = await search(store, '?_id=parent');
    assert.deepEqual(
      all.entries.map((e) => e.id),
      ['parent'],
    );
  });
});
