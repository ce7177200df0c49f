import assert from 'node:assert/strict';
import type { AccessConstraint } from '../../../store/protocol.js';
import { findMatches } from '../../../store/search/index.js';
import { BASE, ids, search } from './support/run-search.js';
import { describeOnEngines } from '../../support/engines.js';
import { TestStore } from './support/test-store.js';

/** Another patient's data never appears, through any route search offers. */

const onlyA: AccessConstraint = { types: { '*': { compartment: 'Patient/pa' } } };
const obsOpenPatientsA: AccessConstraint = {
  types: { Observation: {}, Patient: { compartment: 'Patient/pa' } },
};
const patientsOpenObsA: AccessConstraint = {
  types: { Patient: {}, Observation: { compartment: 'Patient/pa' } },
};

describeOnEngines('store/search access constraints', (engine) => {
  let store: TestStore;
  before(async () => {
    store = await new TestStore(engine).init();
    await store.put({ resourceType: 'Practitioner', id: 'doc', name: [{ family: 'House' }] });
    await store.put({
      resourceType: 'Patient',
      id: 'pa',
      name: [{ family: 'Alpha' }],
      generalPractitioner: [{ reference: 'Practitioner/doc' }],
    });
    await store.put({ resourceType: 'Patient', id: 'pb', name: [{ family: 'Beta' }] });
    for (let i = 0; i < 5; i++) {
      await store.put({
        resourceType: 'Observation',
        id: `a${i}`,
        status: i % 2 === 0 ? 'final' : 'preliminary',
        code: { coding: [{ code: 'x' }] },
        subject: { reference: 'Patient/pa' },
        performer: [{ reference: 'Practitioner/doc' }],
      });
      await store.put({
        resourceType: 'Observation',
        id: `b${i}`,
        status: 'final',
        code: { coding: [{ code: 'secret' }] },
        subject: { reference: 'Patient/pb' },
        performer: [{ reference: 'Practitioner/doc' }],
      });
    }
  });
  after(() => store.close());

  it('keeps matches inside the compartment', async () => {
    assert.deepEqual(await ids(store, 'Observation', { constraint: onlyA }), [
      'a0',
      'a1',
      'a2',
      'a3',
      'a4',
    ]);
    assert.deepEqual(await ids(store, 'Patient', { constraint: onlyA }), ['pa']);
  });
  it('finds inside a compartment what every clause kind finds outside it', async () => {
    const both: AccessConstraint = {
      types: {
        Patient: { compartment: 'Patient/pa' },
        Observation: { compartment: 'Patient/pa', anyOf: ['status=final,preliminary'] },
        Practitioner: {},
      },
    };
    for (const q of [
      'Observation?code=x',
      'Observation?status=final',
      'Observation?status:not=final',
      'Observation?code=x&status=preliminary',
      'Observation?subject:Patient.name=alpha',
      'Observation?performer:Practitioner.name=house&status=final',
      'Observation?code=secret',
    ]) {
      const outside = (await ids(store, q)).filter((id) => id.startsWith('a'));
      assert.deepEqual(await ids(store, q, { constraint: both }), outside, q);
      assert.deepEqual(await ids(store, `Patient/pa/${q}`), outside, `Patient/pa/${q}`);
    }
    assert.deepEqual(
      await ids(store, 'Patient?_has:Observation:subject:code=x', { constraint: both }),
      ['pa'],
    );
    assert.deepEqual(
      await ids(store, 'Patient?_has:Observation:subject:code=secret', { constraint: both }),
      [],
    );
  });
  it('counts only visible resources in totals', async () => {
    const page = await search(store, 'Observation?_total=accurate&_count=2', { constraint: onlyA });
    assert.equal(page.total, 5);
    const count = await search(store, 'Observation?code=secret&_summary=count', {
      constraint: onlyA,
    });
    assert.equal(count.total, 0);
  });
  it('pages through only visible resources', async () => {
    const seen: string[] = [];
    let page = await search(store, 'Observation?_count=2', { constraint: onlyA });
    for (let i = 0; i < 10; i++) {
      seen.push(...page.entries.map((e) => e.id));
      const next = page.links.find((l) => l.relation === 'next');
      if (next === undefined) break;
      page = await search(store, next.url.slice(BASE.length + 1), { constraint: onlyA });
    }
    assert.deepEqual(seen.sort(), ['a0', 'a1', 'a2', 'a3', 'a4']);
  });
  it('never includes or revincludes a resource outside the constraint', async () => {
    const inc = await search(
      store,
      'Observation?_include=Observation:subject&_include=Observation:performer',
      { constraint: onlyA },
    );
    assert.deepEqual(
      inc.entries.filter((e) => e.mode === 'include').map((e) => e.id),
      ['pa'],
    );
    const rev = await search(store, 'Patient?_revinclude=Observation:subject', {
      constraint: onlyA,
    });
    assert.ok(rev.entries.every((e) => e.id === 'pa' || e.id.startsWith('a')));
    const revB = await search(store, 'Practitioner?_revinclude=Observation:performer', {
      constraint: { types: { Practitioner: {}, Observation: { compartment: 'Patient/pa' } } },
    });
    assert.deepEqual(
      revB.entries
        .filter((e) => e.mode === 'include')
        .map((e) => e.id)
        .sort(),
      ['a0', 'a1', 'a2', 'a3', 'a4'],
    );
  });
  it('does not match through a chain into an invisible resource', async () => {
    assert.deepEqual(
      await ids(store, 'Observation?subject:Patient.name=beta', { constraint: obsOpenPatientsA }),
      [],
    );
    assert.deepEqual(
      await ids(store, 'Observation?subject:Patient.name=alpha', { constraint: obsOpenPatientsA }),
      ['a0', 'a1', 'a2', 'a3', 'a4'],
    );
  });
  it('does not match through _has on an invisible resource', async () => {
    assert.deepEqual(
      await ids(store, 'Patient?_has:Observation:subject:code=secret', {
        constraint: patientsOpenObsA,
      }),
      [],
    );
    assert.deepEqual(await ids(store, 'Patient?_has:Observation:subject:code=secret'), ['pb']);
  });
  it('answers $everything and compartment search of another patient like a missing one', async () => {
    await assert.rejects(
      search(store, 'Patient/pb/$everything', { constraint: onlyA }),
      (e: { status?: number }) => e.status === 404,
    );
    await assert.rejects(
      search(store, 'Patient/pb/Observation', { constraint: onlyA }),
      (e: { status?: number }) => e.status === 404,
    );
    const all = await search(store, 'Patient/pa/$everything?_count=100', { constraint: onlyA });
    assert.ok(all.entries.every((e) => !e.id.startsWith('b') && e.id !== 'pb'));
  });
  it('applies granular filters (anyOf, OR between them, AND with the request)', async () => {
    const c: AccessConstraint = {
      types: {
        Observation: { compartment: 'Patient/pa', anyOf: ['status=final', 'code=nothing'] },
      },
    };
    assert.deepEqual(await ids(store, 'Observation', { constraint: c }), ['a0', 'a2', 'a4']);
    assert.deepEqual(await ids(store, 'Observation?_id=a1,a2', { constraint: c }), ['a2']);
  });
  it('rejects a filter with an unknown parameter instead of dropping it', async () => {
    const c: AccessConstraint = { types: { Observation: { anyOf: ['no-such-param=1'] } } };
    await assert.rejects(
      search(store, 'Observation', { constraint: c }),
      (e: { status?: number }) => e.status === 400,
    );
  });
  it('hides types the constraint does not list', async () => {
    assert.deepEqual(
      await ids(store, 'Practitioner', { constraint: { types: { Patient: {} } } }),
      [],
    );
  });
  it('keeps conditional-operation searches inside the constraint', async () => {
    const found = await findMatches(store.engine, 'Observation', 'code=secret', {
      constraint: onlyA,
      baseUrl: BASE,
      limit: 10,
      queryTimeoutMs: 5000,
    });
    assert.deepEqual(found, []);
    const all = await findMatches(store.engine, 'Observation', 'code=secret', {
      baseUrl: BASE,
      limit: 10,
      queryTimeoutMs: 5000,
    });
    assert.equal(all.length, 5);
  });
});
