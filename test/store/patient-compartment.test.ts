import assert from 'node:assert/strict';
import { demoBundles } from '../../demo/index.js';
import { storedPatientCompartments } from '../../store/fhir/patient-compartment.js';
import { stringifyJson, type JsonObject } from '../../store/fhir/json.js';
import { patientCompartments } from '../../store/index.js';
import { withServerMeta } from '../../store/repo/meta.js';

describe('store: patient compartment membership', () => {
  it('finds every patient an Observation refers to through the compartment parameters', () => {
    const ids = patientCompartments({
      resourceType: 'Observation',
      id: 'o1',
      subject: { reference: 'Patient/a' },
      performer: [{ reference: 'Practitioner/x' }, { reference: 'Patient/b' }],
      hasMember: [{ reference: 'Patient/not-a-compartment-param' }],
    } as never);
    assert.deepEqual([...ids].sort(), ['a', 'b']);
  });

  it('puts a Patient in its own compartment and its linked patients', () => {
    const ids = patientCompartments({
      resourceType: 'Patient',
      id: 'p1',
      link: [{ other: { reference: 'Patient/p2' }, type: 'seealso' }],
    } as never);
    assert.deepEqual([...ids].sort(), ['p1', 'p2']);
  });

  it('reads absolute and versioned references, and ignores other types and contained ones', () => {
    const ids = patientCompartments({
      resourceType: 'Encounter',
      subject: { reference: 'https://example.org/fhir/Patient/abs/_history/3' },
      participant: [{ individual: { reference: 'Practitioner/doc' } }],
    } as never);
    assert.deepEqual(ids, ['abs']);
    assert.deepEqual(
      patientCompartments({ resourceType: 'Observation', subject: { reference: '#p' } } as never),
      [],
    );
  });

  it('finds patients behind FHIRPath-only expressions (not plain paths)', () => {
    // Provenance.patient is `Provenance.target.where(resolve() is Patient)`; rewritten to a filter.
    const ids = patientCompartments({
      resourceType: 'Provenance',
      target: [{ reference: 'Patient/t1' }, { reference: 'Observation/o' }],
      agent: [{ who: { reference: 'Patient/t2' } }],
    } as never);
    assert.ok(ids.includes('t1'), JSON.stringify(ids));
  });
});

describe('store: patient compartments of stored text', () => {
  /** The text the store keeps for a version (the write path's own functions). */
  const stored = (resource: Record<string, unknown>, id: string): string =>
    stringifyJson(withServerMeta(resource as JsonObject, id, 1, Date.UTC(2024, 0, 1)));

  const same = (type: string, id: string, json: string): void => {
    const expected = patientCompartments(JSON.parse(json) as Record<string, unknown>);
    assert.deepEqual(storedPatientCompartments(type, id, json), expected, json);
  };

  it('equals patientCompartments of the parsed text for every resource of the demo dataset', () => {
    let n = 0;
    for (const bundle of demoBundles({ patients: 3 })) {
      for (const entry of bundle.entry ?? []) {
        const r = entry.resource as Record<string, unknown> | undefined;
        if (r === undefined || typeof r.resourceType !== 'string') continue;
        const id = typeof r.id === 'string' ? r.id : `gen-${n}`;
        same(r.resourceType, id, stored(r, id));
        n++;
      }
    }
    assert.ok(n > 100, `only ${n} resources`);
  });

  it('equals it where the text alone cannot tell: links, escapes, other types, odd heads', () => {
    const cases: [string, string, string][] = [
      ['Patient', 'p1', stored({ resourceType: 'Patient' }, 'p1')],
      [
        'Patient',
        'p1',
        stored({ resourceType: 'Patient', link: [{ other: { reference: 'Patient/p2' } }] }, 'p1'),
      ],
      // escaped `/` and letters hide a reference from a text search: parsed
      [
        'Patient',
        'p1',
        '{"resourceType":"Patient","id":"p1","link":[{"other":{"reference":"Patient\\/p3"}}]}',
      ],
      [
        'Observation',
        'o1',
        '{"resourceType":"Observation","id":"o1","subject":{"reference":"\\u0050atient/p4"}}',
      ],
      [
        'Observation',
        'o1',
        stored({ resourceType: 'Observation', subject: { reference: 'Patient/p5' } }, 'o1'),
      ],
      [
        'Observation',
        'o1',
        stored({ resourceType: 'Observation', subject: { reference: 'Group/g' } }, 'o1'),
      ],
      // a type outside the compartment: references to patients do not place it in one
      [
        'Organization',
        'g1',
        stored({ resourceType: 'Organization', partOf: { reference: 'Patient/p6' } }, 'g1'),
      ],
      // the head does not prove type and id: parsed
      ['Patient', 'p1', '{"id":"p1","resourceType":"Patient"}'],
      ['Patient', 'p1', '{"resourceType":"Patient","id":"p1x"}'],
      [
        'Patient',
        'p1',
        '{"resourceType":"Observation","id":"p1","subject":{"reference":"Patient/p7"}}',
      ],
    ];
    for (const [type, id, json] of cases) same(type, id, json);
  });
});
