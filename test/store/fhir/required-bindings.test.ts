import assert from 'node:assert/strict';
import { validateFhirResource } from '../../../store/fhir/validate.js';

/** The expressions of the code-invalid issues validating `resource` gives, in order. */
function codeIssues(resource: Record<string, unknown>): string[] {
  return validateFhirResource(resource)
    .filter((i) => i.code === 'code-invalid')
    .map((i) => i.expression?.join(',') ?? '');
}

describe('store: codes of required bindings', () => {
  const cases: { name: string; resource: Record<string, unknown>; expected: string[] }[] = [
    {
      name: 'a top-level code and a code in a data type inside an array',
      resource: {
        resourceType: 'Patient',
        gender: 'robot',
        name: [{ use: 'official' }, { use: 'nickname-ish' }],
      },
      expected: ['Patient.gender', 'Patient.name[1].use'],
    },
    {
      name: 'codes in elements defined by a contentReference, nested twice',
      resource: {
        resourceType: 'Questionnaire',
        status: 'active',
        item: [
          {
            linkId: '1',
            type: 'group',
            item: [
              { linkId: '1.1', type: 'bogus' },
              { linkId: '1.2', type: 'group', item: [{ linkId: '1.2.1', type: 'nope' }] },
            ],
          },
        ],
      },
      expected: [
        'Questionnaire.item[0].item[0].type',
        'Questionnaire.item[0].item[1].item[0].type',
      ],
    },
    {
      name: 'a code of a contained resource and of a backbone element',
      resource: {
        resourceType: 'Patient',
        contained: [{ resourceType: 'Observation', status: 'weird', code: { text: 'x' } }],
        contact: [{ gender: 'other' }, { gender: 'none' }],
      },
      expected: ['Patient.contained[0].status', 'Patient.contact[1].gender'],
    },
    {
      name: 'a choice element by its typed name (Quantity.comparator)',
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'x' },
        valueQuantity: { value: 1, comparator: 'about' },
      },
      expected: ['Observation.valueQuantity.comparator'],
    },
    {
      name: 'no issue for codes inside their value sets',
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'x' },
        component: [{ code: { text: 'y' }, valueQuantity: { value: 1, comparator: '<' } }],
      },
      expected: [],
    },
  ];
  for (const c of cases) {
    it(`reports ${c.name} at its FHIRPath`, () => {
      assert.deepEqual(codeIssues(c.resource), c.expected);
    });
  }
});
