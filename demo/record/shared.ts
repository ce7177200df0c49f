import type { Organization, Practitioner } from '@medplum/fhirtypes';
import { SYSTEM } from '../code-systems.js';
import { CITIES, FAMILY, GIVEN_FEMALE, GIVEN_MALE, STREETS } from '../names.js';
import { Random } from '../prng.js';

/** Practitioners and organizations every synthetic patient's record refers to. */
export interface SharedResources {
  readonly practitioners: readonly Practitioner[];
  readonly organizations: readonly Organization[];
}

const ORGANIZATIONS = [
  'Hearth General Hospital',
  'Riverside Family Practice',
  'Northgate Community Clinic',
] as const;

const PRACTITIONER_COUNT = 12;

export function generateShared(seed: string): SharedResources {
  const rng = new Random(`${seed}/shared`);
  const organizations = ORGANIZATIONS.map((name, i): Organization => {
    const place = rng.pick(CITIES);
    return {
      resourceType: 'Organization',
      id: rng.uuid(),
      identifier: [{ system: SYSTEM.orgId, value: `ORG-${String(i + 1).padStart(3, '0')}` }],
      active: true,
      type: [
        {
          coding: [
            { system: SYSTEM.organizationType, code: 'prov', display: 'Healthcare Provider' },
          ],
        },
      ],
      name,
      telecom: [
        { system: 'phone', value: `(555) 01${rng.digits(1)}-${rng.digits(4)}`, use: 'work' },
      ],
      address: [
        {
          use: 'work',
          line: [`${rng.int(1, 400)} ${rng.pick(STREETS)}`],
          city: place.city,
          state: place.state,
          postalCode: place.postalCode,
          country: 'US',
        },
      ],
    };
  });
  const practitioners = Array.from({ length: PRACTITIONER_COUNT }, (_, i): Practitioner => {
    const female = rng.chance(0.5);
    return {
      resourceType: 'Practitioner',
      id: rng.uuid(),
      identifier: [{ system: SYSTEM.npi, value: `99${String(i + 1).padStart(8, '0')}` }],
      active: true,
      name: [
        {
          use: 'official',
          family: rng.pick(FAMILY),
          given: [rng.pick(female ? GIVEN_FEMALE : GIVEN_MALE)],
          prefix: ['Dr.'],
        },
      ],
      gender: female ? 'female' : 'male',
      telecom: [{ system: 'email', value: `clinician${i + 1}@hearth.example`, use: 'work' }],
    };
  });
  return { practitioners, organizations };
}
