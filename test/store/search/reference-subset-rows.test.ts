import assert from 'node:assert/strict';
import type { AccessConstraint } from '../../../store/protocol.js';
import { contextFor } from '../../../store/search/context.js';
import { createRegistry } from '../../../store/search/definitions/registry.js';
import { RESOURCE_TYPES } from '../../../store/search/definitions/resource-types.js';
import { extractRows } from '../../../store/search/indexing/index-resource.js';
import { describeOnEngines } from '../../support/engines.js';
import { ids, search } from './support/run-search.js';
import { itMatches, storeWith } from './support/query-table.js';
import type { Res } from './support/test-store.js';

/**
 * A reference parameter that selects another's references to one type (`Observation.patient` =
 * `Observation.subject.where(resolve() is Patient)`) writes no rows: search reads the other
 * parameter's rows to that type. Every search below answers as it did when it wrote its own rows.
 */

const obs = (id: string, subject?: Record<string, unknown>): Res => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '1-1' }] },
  ...(subject === undefined ? {} : { subject }),
});

const fixtures: Res[] = [
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Alpha' }] },
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Beta' }] },
  { resourceType: 'Group', id: 'g1', type: 'person', actual: true },
  { resourceType: 'Practitioner', id: 'pr1', name: [{ family: 'Doc' }] },
  obs('o1', { reference: 'Patient/p1' }),
  obs('o2', { reference: 'Group/g1' }),
  obs('o3', { reference: 'http://other.example/fhir/Patient/p2' }),
  obs('o4', { reference: 'Patient/p2', identifier: { system: 'urn:mrn', value: '42' } }),
  obs('o5', { identifier: { system: 'urn:mrn', value: '43' } }),
  obs('o6', { reference: 'Patient/p1/_history/1' }),
  obs('o7'),
  obs('o8', { reference: 'Group/g1', identifier: { system: 'urn:mrn', value: '44' } }),
  {
    resourceType: 'Encounter',
    id: 'e1',
    status: 'finished',
    class: { code: 'AMB' },
    subject: { reference: 'Patient/p1' },
    participant: [{ individual: { reference: 'Practitioner/pr1' } }],
  },
  {
    resourceType: 'Encounter',
    id: 'e2',
    status: 'finished',
    class: { code: 'AMB' },
    subject: { reference: 'Patient/p2' },
    participant: [{ individual: { reference: 'RelatedPerson/rp1' } }],
  },
  {
    resourceType: 'DiagnosticReport',
    id: 'dr1',
    status: 'final',
    code: { text: 'panel' },
    subject: { reference: 'Patient/p2' },
    result: [{ reference: 'Observation/o4' }],
  },
];

const cases: [string, string[]][] = [
  ['Observation?patient=p1', ['o1', 'o6']],
  ['Observation?patient=Patient/p1', ['o1', 'o6']],
  ['Observation?patient=p2', ['o3', 'o4']],
  ['Observation?patient=g1', []],
  ['Observation?subject=g1', ['o2', 'o8']],
  ['Observation?patient:Patient=p1', ['o1', 'o6']],
  ['Observation?patient=http://other.example/fhir/Patient/p2', ['o3']],
  ['Observation?patient:identifier=urn:mrn|42', ['o4']],
  ['Observation?patient:identifier=urn:mrn|43', []],
  ['Observation?patient:identifier=urn:mrn|44', []],
  ['Observation?subject:identifier=urn:mrn|43', ['o5']],
  ['Observation?patient:missing=true', ['o2', 'o5', 'o7', 'o8']],
  ['Observation?patient:missing=false', ['o1', 'o3', 'o4', 'o6']],
  ['Observation?patient=p1,p2', ['o1', 'o3', 'o4', 'o6']],
  ['Observation?patient=p1&subject=Patient/p1', ['o1', 'o6']],
  ['Observation?patient.family=Alpha', ['o1', 'o6']],
  ['Observation?patient:Patient.family=Beta', ['o3', 'o4']],
  ['Patient?_has:Observation:patient:code=1-1', ['p1', 'p2']],
  ['Patient?_has:Observation:patient:_id=o4', ['p2']],
  ['Group?_has:Observation:subject:code=1-1', ['g1']],
  ['DiagnosticReport?result.patient=p2', ['dr1']],
  ['DiagnosticReport?result.patient.family=Beta', ['dr1']],
  ['Encounter?practitioner=pr1', ['e1']],
  ['Encounter?practitioner.family=Doc', ['e1']],
  ['Encounter?practitioner:missing=true', ['e2']],
  ['Encounter?participant=RelatedPerson/rp1', ['e2']],
  ['Encounter?patient=p2', ['e2']],
  ['Practitioner?_has:Encounter:practitioner:status=finished', ['pr1']],
];

/** `mode:Type/id` of every entry of a page, sorted. */
async function entries(store: Parameters<typeof search>[0], url: string): Promise<string[]> {
  const page = await search(store, url, { strict: true });
  return page.entries.map((e) => `${e.mode}:${e.type}/${e.id}`).sort();
}

describeOnEngines('store/search reference parameters that read another’s rows', (engine) => {
  const store = storeWith(engine, fixtures);
  itMatches(store, cases);

  it('includes and reverse-includes through them', async () => {
    assert.deepEqual(await entries(store(), 'Observation?_id=o1,o2&_include=Observation:patient'), [
      'include:Patient/p1',
      'match:Observation/o1',
      'match:Observation/o2',
    ]);
    assert.deepEqual(await entries(store(), 'Patient?_id=p1&_revinclude=Observation:patient'), [
      'include:Observation/o1',
      'include:Observation/o6',
      'match:Patient/p1',
    ]);
    assert.deepEqual(
      await entries(store(), 'Encounter?_id=e1,e2&_include=Encounter:practitioner'),
      ['include:Practitioner/pr1', 'match:Encounter/e1', 'match:Encounter/e2'],
    );
  });

  it('keeps one index per way a reference is looked up (the searches above use no other)', async () => {
    // by parameter then target (`_has`, chains, `_revinclude`), by source row, by absolute url;
    // a target-first index (sp_ref_target) served no search and cost every ingested reference
    const sql =
      store().engine.dialect === 'sqlite'
        ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sp_ref' ORDER BY name"
        : "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'sp_ref' ORDER BY indexname";
    const names = (await store().engine.all<{ name: string }>(sql)).map((r) => r.name);
    assert.deepEqual(names, ['sp_ref_rid', 'sp_ref_t', 'sp_ref_url_p']);
  });

  it('sorts by them as by their own rows', async () => {
    assert.deepEqual(await ids(store(), 'Observation?_id=o4,o1,o2&_sort=patient', {}, true), [
      'o1',
      'o4',
      'o2',
    ]);
  });

  it('keeps the Patient compartment (Encounter’s is through `patient`)', async () => {
    const only = (id: string): AccessConstraint => ({
      types: { '*': { compartment: `Patient/${id}` } },
    });
    assert.deepEqual(await ids(store(), 'Encounter', { constraint: only('p1') }), ['e1']);
    assert.deepEqual(await ids(store(), 'Observation', { constraint: only('p1') }), ['o1', 'o6']);
    assert.deepEqual(await ids(store(), 'Observation', { constraint: only('p2') }), ['o3', 'o4']);
  });

  it('writes no rows under their keys', async () => {
    const row = await store().engine.get<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM sp_ref
        WHERE sp IN ('Observation.patient', 'Encounter.patient', 'Encounter.practitioner', 'DiagnosticReport.patient')`,
    );
    assert.equal(Number(row?.n), 0);
    const subject = await store().engine.get<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM sp_ref WHERE sp = 'Observation.subject'",
    );
    // o1–o6 and o8, o4 and o8 with an identifier row besides
    assert.equal(Number(subject?.n), 9);
  });
});

describe('store/search reference parameters that read another’s rows: which', () => {
  it('are the shipped `X.where(resolve() is T)` of a shipped `X`', () => {
    const registry = createRegistry();
    const found: string[] = [];
    for (const type of RESOURCE_TYPES)
      for (const p of registry.list(type))
        if (p.rowsOf !== undefined)
          found.push(`${p.key} = ${p.rowsOf.param.code} to ${p.rowsOf.targetType}`);
    assert.equal(found.length, 47);
    for (const f of [
      'Observation.patient = subject to Patient',
      'Encounter.practitioner = participant to Practitioner',
      'Appointment.location = actor to Location',
      'Person.relatedperson = link to RelatedPerson',
      'Provenance.patient = target to Patient',
    ])
      assert.ok(found.includes(f), f);
    // a parameter that names its own path (`Immunization.patient`) writes its rows
    assert.equal(registry.get('Immunization', 'patient')?.rowsOf, undefined);
  });

  it('write their own rows again once a custom parameter replaces the source', () => {
    const custom = {
      resourceType: 'SearchParameter' as const,
      url: 'http://example.org/SearchParameter/observation-subject',
      code: 'subject',
      base: ['Observation'],
      type: 'reference',
      status: 'active',
      expression: 'Observation.subject',
      target: ['Patient', 'Group'],
    };
    const ctx = contextFor('reference-subset-custom-subject', [custom]);
    assert.equal(ctx.registry.get('Observation', 'patient')?.rowsOf, undefined);
    const { rows, patients } = extractRows(ctx, {
      resourceType: 'Observation',
      id: 'x',
      subject: { reference: 'Patient/p9' },
    });
    assert.deepEqual(
      rows.reference.filter((r) => r.sp === 'Observation.patient').map((r) => r.tid),
      ['p9'],
    );
    assert.deepEqual(patients, ['p9']);
  });
});
