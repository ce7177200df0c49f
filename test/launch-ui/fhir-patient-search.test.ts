import assert from 'node:assert/strict';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import type { UserInfo } from '../../auth/index.js';
import { generatePopulation } from '../../demo/index.js';
import { createFhirPatientSearch } from '../../launch-ui/index.js';

const BASE = 'http://localhost:8080/fhir';
const USER: UserInfo = {
  id: 'u',
  username: 'clinician',
  fhirUser: undefined,
  roles: [],
  enabled: true,
};
const PATIENTS = generatePopulation({ patients: 7, seed: 'search' }).records.map(
  (r) => r[0] as Patient,
);

/** A searchset server over 7 patients with 3 per page and cursor `next` links. */
function searchset(calls: string[]) {
  return (url: string): Promise<Bundle> => {
    calls.push(url);
    const u = new URL(url, `${BASE}/`);
    const start = Number(u.searchParams.get('_cursor') ?? 0);
    const entries = PATIENTS.slice(start, start + 3);
    const link =
      start + 3 < PATIENTS.length
        ? [{ relation: 'next', url: `${BASE}/Patient?_count=3&_cursor=${start + 3}` }]
        : [];
    return Promise.resolve({
      resourceType: 'Bundle',
      type: 'searchset',
      link,
      entry: entries.map((resource) => ({ resource, search: { mode: 'match' as const } })),
    });
  };
}

describe('patient search over FHIR (for the picker and the launcher)', () => {
  it('asks for Patient by name and birth date, sorted, one page at a time', async () => {
    const calls: string[] = [];
    const search = createFhirPatientSearch({
      fetchBundle: searchset(calls),
      fhirBaseUrl: BASE,
      pageSize: 3,
    });
    const r = await search({ name: 'Zoë', birthdate: '1980-09-17', page: 1 }, USER);
    assert.equal(
      calls[0],
      'Patient?name=Zo%C3%AB&birthdate=1980-09-17&_sort=family%2Cgiven&_count=3',
    );
    assert.equal(r.patients.length, 3);
    assert.equal(r.next, 2);
  });

  it('summarises each patient as name, birth date, gender and MRN', async () => {
    const search = createFhirPatientSearch({
      fetchBundle: searchset([]),
      fhirBaseUrl: BASE,
      pageSize: 3,
    });
    const [first] = (await search({ page: 1 }, USER)).patients;
    const p = PATIENTS[0];
    assert.deepEqual(first, {
      id: p?.id,
      name: `${p?.name?.[0]?.given?.join(' ') ?? ''} ${p?.name?.[0]?.family ?? ''}`,
      birthDate: p?.birthDate,
      gender: p?.gender,
      identifier: 'H000001',
    });
  });

  it('reaches page n by following next links (relative to the FHIR base) and ends paging on the last page', async () => {
    const calls: string[] = [];
    const search = createFhirPatientSearch({
      fetchBundle: searchset(calls),
      fhirBaseUrl: BASE,
      pageSize: 3,
    });
    const r = await search({ page: 3 }, USER);
    assert.deepEqual(calls.slice(1), ['Patient?_count=3&_cursor=3', 'Patient?_count=3&_cursor=6']);
    assert.deepEqual(
      r.patients.map((p) => p.id),
      [PATIENTS[6]?.id],
    );
    assert.equal(r.next, undefined);
  });
});
