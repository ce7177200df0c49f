import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { demoBundles } from '../../../demo/index.js';
import { Random } from '../../../demo/prng.js';
import { quickAccept } from '../../../store/fhir/quick-accept.js';
import { loadTypesUsedBy } from '../../../store/fhir/type-schemas.js';
import { loadValidator, validateFhirResource } from '../../../store/fhir/validate.js';

type Json = Record<string, unknown>;

/** The error issues Medplum's validator reports, the reference the quick pass answers to. */
function medplumErrors(res: Json): OperationOutcomeIssue[] {
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateResource(res as unknown as Resource);
  } catch (err) {
    // the validator throws on some primitive extensions it cannot merge: a rejection too
    if (!(err instanceof OperationOutcomeError)) return [{ severity: 'error', code: 'exception' }];
    issues = err.outcome.issue;
  }
  return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
}

const HANDMADE: Json[] = [
  {
    resourceType: 'Patient',
    id: 'p1',
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Ann</div>' },
    extension: [
      {
        url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race',
        extension: [
          {
            url: 'ombCategory',
            valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2106-3' },
          },
          { url: 'text', valueString: 'White' },
        ],
      },
    ],
    contained: [{ resourceType: 'Organization', id: 'o', name: 'Clinic' }],
    managingOrganization: { reference: '#o' },
    name: [{ family: 'Smith', given: ['Ann', 'B'], period: { start: '2001-01-01', end: '2002' } }],
    telecom: [{ system: 'phone', value: '555-1234', rank: 1 }],
    birthDate: '1970-05-01',
    multipleBirthInteger: 2,
    deceasedBoolean: false,
  },
  {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
    subject: { reference: 'Patient/p1' },
    effectivePeriod: { start: '2020-01-01T10:00:00Z' },
    component: [
      {
        code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
        valueQuantity: {
          value: 120,
          unit: 'mmHg',
          system: 'http://unitsofmeasure.org',
          code: 'mm[Hg]',
        },
      },
      { code: { text: 'note' }, valueString: 'fine' },
    ],
    referenceRange: [{ low: { value: 1 }, high: { value: 2 }, text: 'normal' }],
    interpretation: [{ text: 'N' }],
  },
  {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:5b6a1c7e-3d1f-4b8e-9a4f-2f1d9a3c0e11',
        resource: { resourceType: 'Patient', gender: 'female' },
        request: { method: 'POST', url: 'Patient' },
      },
      {
        resource: {
          resourceType: 'Condition',
          subject: { reference: 'urn:uuid:5b6a1c7e-3d1f-4b8e-9a4f-2f1d9a3c0e11' },
          onsetAge: { value: 40, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a' },
        },
        request: { method: 'PUT', url: 'Condition?identifier=x|1' },
      },
    ],
  },
  {
    resourceType: 'Questionnaire',
    status: 'active',
    item: [
      {
        linkId: '1',
        type: 'group',
        item: [
          { linkId: '1.1', type: 'boolean', text: 'Smoker?' },
          {
            linkId: '1.2',
            type: 'integer',
            enableWhen: [{ question: '1.1', operator: '=', answerBoolean: true }],
          },
        ],
      },
    ],
  },
  {
    resourceType: 'Parameters',
    parameter: [
      { name: 'a', valueString: 'x' },
      {
        name: 'b',
        resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' } },
      },
      { name: 'c', part: [{ name: 'd', valueInteger: -3 }] },
    ],
  },
  {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { text: 'aspirin' },
    subject: { reference: 'Patient/p1' },
    dosageInstruction: [
      {
        timing: {
          repeat: {
            frequency: 2,
            period: 1,
            periodUnit: 'd',
            boundsDuration: { value: 5, system: 'http://unitsofmeasure.org', code: 'd' },
          },
        },
        doseAndRate: [{ doseQuantity: { value: 0.5, unit: 'g' } }],
      },
    ],
  },
];

/** Resources the validator rejects through an invariant or a rule the quick pass checks itself. */
const INVALID: [string, Json][] = [
  [
    'an extension with both a value and extensions (ext-1)',
    {
      resourceType: 'Patient',
      extension: [{ url: 'u', valueString: 'v', extension: [{ url: 'w', valueBoolean: true }] }],
    },
  ],
  [
    'an Observation with a value and a dataAbsentReason (obs-6)',
    {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      valueString: 'y',
      dataAbsentReason: { text: 'z' },
    },
  ],
  [
    'a reference range with neither low, high nor text (obs-3, an element invariant)',
    {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      referenceRange: [{ appliesTo: [{ text: 'adults' }] }],
    },
  ],
  [
    'a timing with a duration and no unit (tim-1, an invariant of a nested data type)',
    {
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { text: 'a' },
      subject: { reference: 'Patient/1' },
      dosageInstruction: [{ timing: { repeat: { duration: 5 } } }],
    },
  ],
  [
    'a contained resource with security labels (dom-5)',
    {
      resourceType: 'Patient',
      contained: [{ resourceType: 'Organization', meta: { security: [{ code: 'R' }] }, name: 'o' }],
    },
  ],
  ['a missing required element', { resourceType: 'Observation', code: { text: 'x' } }],
  [
    'a positiveInt of zero',
    { resourceType: 'Patient', telecom: [{ system: 'phone', value: '1', rank: 0 }] },
  ],
  ['a date out of range', { resourceType: 'Patient', birthDate: '2020-13-01' }],
  ['an unknown element', { resourceType: 'Patient', nickname: 'x' }],
  ['a string of whitespace', { resourceType: 'Patient', name: [{ family: '  ' }] }],
  ['a single value where a list belongs', { resourceType: 'Patient', name: { family: 'x' } }],
];

/** Values a mutation puts somewhere, meant to break a rule the validator checks. */
const ODD: unknown[] = [
  '',
  ' ',
  'a  b',
  'x',
  ' lead',
  '2020-13-01',
  '2020-01-01T25:00:00Z',
  '2020-01-01T10:00:00',
  'urn:uuid:nope',
  'http://a b',
  0,
  -1,
  1.5,
  1e21,
  true,
  false,
  {},
  [],
  null,
  [null],
  [{}],
  ['x'],
  { extension: [{ url: 'u', valueString: 'v' }] },
  { resourceType: 'Patient' },
  { id: 'x' },
  { text: 'x' },
  { reference: 'Patient/1' },
  { coding: [{ system: 's', code: 'c' }] },
  { value: 1, code: 'mg' },
  { start: '2021', end: '2020' },
  [{ url: 'u' }],
  { url: 'u', valueString: 'v', extension: [{ url: 'w', valueInteger: 1 }] },
];
const NEW_KEYS = [
  'foo',
  'valueString',
  'valueQuantity',
  'valueBoolean',
  '_status',
  '_value',
  'resourceType',
  'extension',
  'modifierExtension',
  'id',
  'text',
  'contained',
  'meta',
  'value[x]',
  'effectiveDateTime',
];

function slotsOf(v: unknown, out: [Json | unknown[], string | number][]): void {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push([v, i]);
      slotsOf(x, out);
    });
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      out.push([v as Json, k]);
      slotsOf(x, out);
    }
  }
}

function mutate(res: Json, rnd: Random): Json {
  const copy = structuredClone(res);
  const steps = rnd.int(1, 2);
  for (let s = 0; s < steps; s++) {
    const slots: [Json | unknown[], string | number][] = [];
    slotsOf(copy, slots);
    const [parent, key] = slots[rnd.int(0, slots.length - 1)] ?? [copy, 'id'];
    const p = parent as Record<string | number, unknown>;
    const odd = (): unknown => structuredClone(ODD[rnd.int(0, ODD.length - 1)]);
    switch (rnd.int(0, 6)) {
      case 0:
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else Reflect.deleteProperty(p, key);
        break;
      case 1:
        p[key] = odd();
        break;
      case 2:
        p[key] = Array.isArray(p[key]) ? (p[key] as unknown[])[0] : [p[key]];
        break;
      case 3: {
        const obj = Array.isArray(parent) ? p[key] : parent;
        if (typeof obj === 'object' && obj !== null && !Array.isArray(obj)) {
          (obj as Json)[NEW_KEYS[rnd.int(0, NEW_KEYS.length - 1)] as string] = odd();
        }
        break;
      }
      case 4: {
        // the same value under another key of the object (a second choice type, a misspelling)
        if (!Array.isArray(parent) && typeof key === 'string') {
          const other = key.replace(/[A-Z][a-z]+$/, (m) => (m === 'String' ? 'Code' : 'String'));
          p[other === key ? `${key}s` : other] = structuredClone(p[key]);
        }
        break;
      }
      case 5: {
        const v = p[key];
        if (typeof v === 'string') p[key] = `${v}${rnd.chance(0.5) ? ' ' : '-x'}`;
        else if (typeof v === 'number') p[key] = -v - 0.5;
        else p[key] = odd();
        break;
      }
      default: {
        // a subtree from elsewhere in the resource (an element of the wrong type)
        const [from, fk] = slots[rnd.int(0, slots.length - 1)] ?? [copy, 'id'];
        p[key] = structuredClone((from as Record<string | number, unknown>)[fk]);
      }
    }
  }
  return copy;
}

function shippedFixtures(): Json[] {
  const out: Json[] = [];
  for (const f of ['collection.json', 'transaction-urn.json']) {
    const url = new URL(`../../fixtures/store/${f}`, import.meta.url);
    const b = JSON.parse(readFileSync(url, 'utf8')) as { entry?: { resource?: Json }[] };
    for (const e of b.entry ?? []) if (e.resource !== undefined) out.push(e.resource);
  }
  return out;
}

describe('store: the quick validation pass', () => {
  const corpus: Json[] = [];
  let demo: Json[] = [];

  before(() => {
    loadValidator();
    for (const b of demoBundles({ patients: 2 })) {
      for (const e of b.entry ?? [])
        if (e.resource !== undefined) corpus.push(e.resource as unknown as Json);
    }
    demo = [...corpus];
    corpus.push(...HANDMADE, ...shippedFixtures());
    for (const r of corpus) loadTypesUsedBy(r);
    for (const [, r] of INVALID) loadTypesUsedBy(r);
  });

  it('accepts every resource the demo generator writes, and the valid handmade ones', () => {
    assert.ok(demo.length > 300);
    const refused = [...demo, ...HANDMADE].filter((r) => !quickAccept(r));
    assert.deepEqual(
      refused.map((r) => r.resourceType),
      [],
    );
    for (const r of HANDMADE) assert.deepEqual(medplumErrors(r), [], String(r.resourceType));
  });

  for (const [what, res] of INVALID) {
    it(`leaves ${what} to the validator, which rejects it`, () => {
      assert.equal(quickAccept(res), false);
      assert.notDeepEqual(medplumErrors(res), []);
      assert.notDeepEqual(validateFhirResource(res), []);
    });
  }

  it('never accepts a mutated resource the validator rejects', function () {
    this.timeout(180_000);
    const rnd = new Random('quick-accept');
    let accepted = 0;
    let rejected = 0;
    const wrong: string[] = [];
    for (const res of corpus) {
      for (let i = 0; i < 40; i++) {
        const m = mutate(res, rnd);
        loadTypesUsedBy(m);
        const errors = medplumErrors(m);
        if (errors.length > 0) rejected++;
        if (quickAccept(m)) {
          accepted++;
          if (errors.length > 0) wrong.push(`${JSON.stringify(m)}\n  ${JSON.stringify(errors)}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
    // the mutations exercise both answers: many break a rule, many still pass the quick pass
    const total = corpus.length * 40;
    assert.ok(rejected > total / 2, `${rejected} of ${total} rejected`);
    assert.ok(accepted > total / 10, `${accepted} of ${total} quick-accepted`);
  });

  it('answers as the validator does for what it leaves to it', () => {
    const res = {
      resourceType: 'Patient',
      _birthDate: { extension: [{ url: 'u', valueString: 'v' }] },
    };
    assert.equal(quickAccept(res), false);
    assert.deepEqual(validateFhirResource(res), []);
  });
});
