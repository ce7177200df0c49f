import { describeOnEngines } from '../../support/engines.js';
import { itMatches, storeWith } from './support/query-table.js';
import type { Res } from './support/test-store.js';

/** Hand-worked expectations per parameter type, prefix and modifier. */

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';

const fixtures: Res[] = [
  {
    resourceType: 'Patient',
    id: 'anna',
    name: [{ family: 'Müller', given: ['Anna', 'Maria'] }],
    birthDate: '1980-05-02',
    gender: 'female',
    identifier: [{ system: 'urn:mrn', value: 'A,1' }],
    active: true,
    managingOrganization: { reference: 'Organization/acme' },
    meta: {
      tag: [{ system: 'urn:t', code: 'vip' }],
      profile: ['http://example.org/StructureDefinition/p'],
      security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
      source: 'http://src.example/a',
    },
  },
  {
    resourceType: 'Patient',
    id: 'bob',
    name: [{ family: 'Smith', given: ['Bob'] }],
    birthDate: '1990',
    gender: 'male',
    identifier: [{ system: 'urn:mrn', value: 'B2' }],
  },
  {
    resourceType: 'Patient',
    id: 'chloe',
    name: [{ family: 'Zoë', text: 'Chloé Zoë' }],
    birthDate: '1980-05',
    gender: 'female',
    address: [{ city: 'Genève', postalCode: '1201' }],
  },
  { resourceType: 'Patient', id: 'dan', name: [{ family: 'Dan$ger|ous' }] },
  {
    resourceType: 'Observation',
    id: 'h170',
    status: 'final',
    subject: { reference: 'Patient/anna' },
    code: {
      coding: [
        { system: LOINC, code: '8302-2', display: 'Body height' },
        { system: 'http://snomed.info/sct', code: '50373000' },
      ],
      text: 'Height measured',
    },
    effectiveDateTime: '2020-01-01T10:00:00+02:00',
    valueQuantity: { value: 170, unit: 'cm', system: UCUM, code: 'cm' },
  },
  {
    resourceType: 'Observation',
    id: 'g100',
    status: 'final',
    subject: { reference: 'Patient/bob' },
    code: { coding: [{ system: LOINC, code: '2345-7', display: 'Glucose' }] },
    effectivePeriod: { start: '2021-03-01' },
    valueQuantity: { value: 100, unit: 'mg/dL', system: UCUM, code: 'mg/dL' },
  },
  {
    resourceType: 'Observation',
    id: 'g54',
    status: 'amended',
    subject: { reference: 'Patient/bob' },
    code: { coding: [{ system: LOINC, code: '2345-7' }] },
    effectivePeriod: { start: '2019-06-01T00:00:00Z', end: '2019-06-30T23:59:59Z' },
    valueQuantity: { value: 5.4, unit: 'mmol/L', system: UCUM, code: 'mmol/L' },
  },
  {
    resourceType: 'Observation',
    id: 'bp',
    status: 'preliminary',
    subject: { reference: 'Patient/chloe' },
    code: { coding: [{ system: LOINC, code: '85354-9' }] },
    effectivePeriod: { end: '2018-12-31' },
    component: [
      {
        code: { coding: [{ system: LOINC, code: '8480-6' }] },
        valueQuantity: { value: 120, system: UCUM, code: 'mm[Hg]' },
      },
      {
        code: { coding: [{ system: LOINC, code: '8462-4' }] },
        valueQuantity: { value: 80, system: UCUM, code: 'mm[Hg]' },
      },
    ],
  },
  {
    resourceType: 'RiskAssessment',
    id: 'r1',
    status: 'final',
    subject: { reference: 'Patient/anna' },
    prediction: [{ probabilityDecimal: 0.25 }],
  },
  {
    resourceType: 'RiskAssessment',
    id: 'r2',
    status: 'final',
    subject: { reference: 'Patient/bob' },
    prediction: [{ probabilityDecimal: 0.3 }],
  },
  {
    resourceType: 'DiagnosticReport',
    id: 'dr1',
    status: 'final',
    code: { text: 'x' },
    result: [{ reference: 'Observation/h170' }],
  },
  {
    resourceType: 'ValueSet',
    id: 'vs1',
    status: 'active',
    url: 'http://example.org/fhir/ValueSet/a/b',
  },
  {
    resourceType: 'ValueSet',
    id: 'vs2',
    status: 'active',
    url: 'http://example.org/fhir/ValueSet/a',
  },
];

fixtures.push(
  {
    resourceType: 'Organization',
    id: 'acme',
    name: 'Acme Clinic',
    partOf: { reference: 'Organization/holding' },
  },
  { resourceType: 'Organization', id: 'holding', name: 'Acme Holding' },
  {
    resourceType: 'Observation',
    id: 'byident',
    status: 'final',
    code: { text: 'x' },
    subject: { identifier: { system: 'urn:mrn', value: 'X9' } },
  },
);

const cases: [string, string[]][] = [
  // string: prefix, accents, case, :exact, :contains, escaping
  ['Patient?name=mul', ['anna']],
  ['Patient?name=MÜLLER', ['anna']],
  ['Patient?name=zoe', ['chloe']],
  ['Patient?family:exact=Müller', ['anna']],
  ['Patient?family:exact=muller', []],
  ['Patient?name:contains=ari', ['anna']],
  ['Patient?name=anna,bob', ['anna', 'bob']],
  ['Patient?name=anna&name=maria', ['anna']],
  ['Patient?address-city=geneve', ['chloe']],
  ['Patient?family=dan\\$ger\\|ous', ['dan']],
  // token: code, system|code, |code, system|, :not, :text, multiple codings, escaped comma
  ['Observation?code=8302-2', ['h170']],
  ['Observation?code=http://snomed.info/sct|50373000', ['h170']],
  ['Observation?code=http://loinc.org|', ['bp', 'g100', 'g54', 'h170']],
  ['Observation?code=|8302-2', []],
  ['Observation?code:text=height', ['h170']],
  ['Observation?code:text=body', ['h170']],
  ['Observation?status:not=final', ['bp', 'g54']],
  ['Patient?identifier=urn:mrn|A\\,1', ['anna']],
  ['Patient?identifier=A\\,1,B2', ['anna', 'bob']],
  ['Patient?gender=female&active=true', ['anna']],
  [
    'Observation?status:in=http://hl7.org/fhir/ValueSet/observation-status',
    ['bp', 'byident', 'g100', 'g54', 'h170'],
  ],
  [
    'Patient?gender:in=http://hl7.org/fhir/ValueSet/administrative-gender',
    ['anna', 'bob', 'chloe'],
  ],
  ['Patient?gender:not-in=http://hl7.org/fhir/ValueSet/administrative-gender', ['dan']],
  // date: partial dates as ranges, prefixes, timezones, open periods
  ['Patient?birthdate=1980', ['anna', 'chloe']],
  ['Patient?birthdate=1980-05', ['anna', 'chloe']],
  ['Patient?birthdate=1980-05-02', ['anna']],
  ['Patient?birthdate=lt1985', ['anna', 'chloe']],
  ['Patient?birthdate=ge1990-01-01', ['bob']],
  ['Patient?birthdate=gt1990-06-01', ['bob']],
  ['Patient?birthdate=sa1980-05-01', ['anna', 'bob']],
  ['Patient?birthdate=ne1980', ['bob']],
  ['Observation?date=2020-01-01T08:00:00Z', ['h170']],
  ['Observation?date=2020-01-01T09:00:00%2B01:00', ['h170']],
  ['Observation?date=2020-01-01T10:00:00Z', []],
  ['Observation?date=ge2030-01-01', ['g100']],
  ['Observation?date=lt1900', ['bp']],
  ['Observation?date=2019-06', ['g54']],
  ['Observation?date=eb2019-01-01', ['bp']],
  ['Observation?date=ap2020-01-01', ['g54', 'h170']],
  // quantity and number: precision, UCUM canonical comparison
  ['Observation?value-quantity=170', ['h170']],
  ['Observation?value-quantity=1.7|http://unitsofmeasure.org|m', ['h170']],
  ['Observation?value-quantity=1700|http://unitsofmeasure.org|mm', ['h170']],
  ['Observation?value-quantity=1|http://unitsofmeasure.org|g/L', ['g100']],
  ['Observation?value-quantity=gt0.5|http://unitsofmeasure.org|g/L', ['g100']],
  ['Observation?value-quantity=5.4', ['g54']],
  ['Observation?value-quantity=5.44', []],
  ['Observation?value-quantity=5', ['g54']],
  ['Observation?value-quantity=lt10||mmol/L', ['g54']],
  ['RiskAssessment?probability=0.25', ['r1']],
  ['RiskAssessment?probability=0.3', ['r1', 'r2']],
  ['RiskAssessment?probability=gt0.25', ['r2']],
  ['RiskAssessment?probability=le0.25', ['r1']],
  ['RiskAssessment?probability=ap0.26', ['r1']],
  // composite: tuple matched within one component
  ['Observation?component-code-value-quantity=http://loinc.org|8480-6$gt100', ['bp']],
  ['Observation?component-code-value-quantity=http://loinc.org|8462-4$gt100', []],
  ['Observation?code-value-quantity=http://loinc.org|2345-7$ge100', ['g100']],
  // reference: Type/id, id, absolute to this server, :Type, :missing, chains
  ['Observation?subject=Patient/bob', ['g100', 'g54']],
  ['Observation?subject=bob', ['g100', 'g54']],
  ['Observation?subject=http://localhost:8080/fhir/Patient/anna', ['h170']],
  ['Observation?subject:Patient=chloe', ['bp']],
  ['Observation?subject:Group=chloe', []],
  ['Observation?subject:Patient.gender=female', ['bp', 'h170']],
  ['Observation?patient.birthdate=1980-05', ['bp', 'h170']],
  ['Patient?_has:Observation:patient:code=2345-7', ['bob']],
  ['Patient?_has:Observation:subject:_has:DiagnosticReport:result:status=final', ['anna']],
  ['Patient?birthdate:missing=true', ['dan']],
  ['Patient?birthdate:missing=false', ['anna', 'bob', 'chloe']],
  // uri: exact, :below, :above
  ['ValueSet?url=http://example.org/fhir/ValueSet/a', ['vs2']],
  ['ValueSet?url:below=http://example.org/fhir/ValueSet/a', ['vs1', 'vs2']],
  ['ValueSet?url:above=http://example.org/fhir/ValueSet/a/b', ['vs1', 'vs2']],
  // multi-level and typed chains, reference :identifier
  ['Observation?subject:Patient.organization.name=acme clinic', ['h170']],
  ['Observation?subject:Patient.organization.partof.name=acme holding', ['h170']],
  ['Observation?subject:identifier=urn:mrn|X9', ['byident']],
  ['Organization?_has:Patient:organization:_has:Observation:subject:code=8302-2', ['acme']],
  // resource-level parameters: meta
  ['Patient?_tag=urn:t|vip', ['anna']],
  ['Patient?_profile=http://example.org/StructureDefinition/p', ['anna']],
  ['Patient?_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R', ['anna']],
  ['Patient?_source=http://src.example/a', ['anna']],
  ['?_tag=vip', ['anna']],
  ['?_type=Patient,Organization&_id=anna,acme', ['acme', 'anna']],
  // resource-level parameters
  ['Patient?_id=anna,bob', ['anna', 'bob']],
  ['Patient?_lastUpdated=ge2024-01-01', ['anna', 'bob', 'chloe', 'dan']],
  ['Patient?_lastUpdated=lt2024-01-01', []],
];

describeOnEngines('store/search parameter types (table-driven)', (engine) => {
  const store = storeWith(engine, fixtures);
  itMatches(store, cases);
});
