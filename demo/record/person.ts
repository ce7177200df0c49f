import type { Patient } from '@medplum/fhirtypes';
import { SYSTEM } from '../code-systems.js';
import { CITIES, FAMILY, GIVEN_FEMALE, GIVEN_MALE, STREETS } from '../names.js';
import type { Random } from '../prng.js';
import { date } from './clock.js';

const LANGUAGES = [
  { code: 'en-US', display: 'English (United States)' },
  { code: 'es', display: 'Spanish' },
  { code: 'fr', display: 'French' },
  { code: 'de', display: 'German' },
] as const;

const MARITAL = [
  { code: 'M', display: 'Married' },
  { code: 'S', display: 'Never Married' },
  { code: 'D', display: 'Divorced' },
  { code: 'W', display: 'Widowed' },
] as const;

export interface PersonFacts {
  readonly id: string;
  readonly index: number;
  readonly gender: 'female' | 'male';
  readonly birthMs: number;
  readonly generalPractitioner: string;
  readonly managingOrganization: string;
}

/** The Patient resource: names (some accented), birth date, gender, MRN, contact details. */
export function buildPatient(rng: Random, facts: PersonFacts): Patient {
  const given = rng.pick(facts.gender === 'female' ? GIVEN_FEMALE : GIVEN_MALE);
  const middle = rng.chance(0.4)
    ? [rng.pick(facts.gender === 'female' ? GIVEN_FEMALE : GIVEN_MALE)]
    : [];
  const family = rng.pick(FAMILY);
  const place = rng.pick(CITIES);
  const language = rng.chance(0.75) ? LANGUAGES[0] : rng.pick(LANGUAGES);
  const marital = rng.pick(MARITAL);
  return {
    resourceType: 'Patient',
    id: facts.id,
    identifier: [
      {
        use: 'usual',
        type: {
          coding: [{ system: SYSTEM.identifierType, code: 'MR', display: 'Medical Record Number' }],
          text: 'MRN',
        },
        system: SYSTEM.mrn,
        value: `H${String(facts.index + 1).padStart(6, '0')}`,
      },
    ],
    active: true,
    name: [{ use: 'official', family, given: [given, ...middle] }],
    telecom: [
      { system: 'phone', value: `(555) 2${rng.digits(2)}-${rng.digits(4)}`, use: 'home' },
      { system: 'email', value: `patient${facts.index + 1}@example.org`, use: 'home' },
    ],
    gender: facts.gender,
    birthDate: date(facts.birthMs),
    address: [
      {
        use: 'home',
        line: [`${rng.int(1, 999)} ${rng.pick(STREETS)}`],
        city: place.city,
        state: place.state,
        postalCode: place.postalCode,
        country: 'US',
      },
    ],
    maritalStatus: {
      coding: [{ system: SYSTEM.maritalStatus, code: marital.code, display: marital.display }],
    },
    communication: [
      {
        language: {
          coding: [{ system: SYSTEM.language, code: language.code, display: language.display }],
        },
        preferred: true,
      },
    ],
    generalPractitioner: [{ reference: facts.generalPractitioner }],
    managingOrganization: { reference: facts.managingOrganization },
  };
}
