import assert from 'node:assert/strict';
import { ids, search } from './support/run-search.js';
import { describeOnEngines } from '../../support/engines.js';
import { TestStore } from './support/test-store.js';

describeOnEngines('store/search smoke', (engine) => {
  let store: TestStore;
  before(async () => {
    store = await new TestStore(engine).init();
    await store.put({
      resourceType: 'Patient',
      id: 'p1',
      name: [{ family: 'Müller', given: ['Anna'] }],
      birthDate: '1980-05-02',
      gender: 'female',
    });
    await store.put({
      resourceType: 'Patient',
      id: 'p2',
      name: [{ family: 'Smith', given: ['Bob'] }],
      birthDate: '1990',
      gender: 'male',
    });
    await store.put({
      resourceType: 'Observation',
      id: 'o1',
      status: 'final',
      code: {
        coding: [{ system: 'http://loinc.org', code: '8302-2', display: 'Body height' }],
        text: 'Height',
      },
      subject: { reference: 'Patient/p1' },
      effectiveDateTime: '2020-01-01T10:00:00Z',
      valueQuantity: { value: 170, unit: 'cm', system: 'http://unitsofmeasure.org', code: 'cm' },
    });
  });
  after(() => store.close());

  it('finds patients by accent-free name prefix', async () => {
    assert.deepEqual(await ids(store, 'Patient?name=mull'), ['p1']);
  });
  it('finds observations by code, chain and quantity', async () => {
    assert.deepEqual(await ids(store, 'Observation?code=http://loinc.org|8302-2'), ['o1']);
    assert.deepEqual(await ids(store, 'Observation?subject:Patient.name=muller'), ['o1']);
    assert.deepEqual(
      await ids(store, 'Observation?value-quantity=1.7|http://unitsofmeasure.org|m'),
      ['o1'],
    );
    assert.deepEqual(await ids(store, 'Patient?_has:Observation:subject:code=8302-2'), ['p1']);
    const page = await search(store, 'Observation?_include=Observation:subject');
    assert.deepEqual(
      page.entries.map((e) => `${e.mode}:${e.id}`),
      ['match:o1', 'include:p1'],
    );
  });
});
