import assert from 'node:assert/strict';
import { patientCompartments } from '../../store/index.js';

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
