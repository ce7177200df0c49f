import type { Organization, Patient, Practitioner, Reference, Resource } from '@medplum/fhirtypes';
import type { Random } from '../prng.js';

/** What every builder of one patient's record needs. */
export interface RecordContext {
  readonly rng: Random;
  readonly patientId: string;
  readonly patient: Reference<Patient>;
  /** Milliseconds since the epoch of the record's "today". */
  readonly asOfMs: number;
  readonly birthMs: number;
  readonly gender: 'female' | 'male';
  /** The patient's regular clinician and clinic. */
  readonly practitioner: Reference<Practitioner>;
  readonly organization: Reference<Organization>;
  /** Every practitioner of the population (emergency visits see someone else). */
  readonly practitioners: readonly Reference<Practitioner>[];
}

export function reference<T extends Resource>(type: T['resourceType'], id: string): Reference<T> {
  return { reference: `${type}/${id}` };
}
