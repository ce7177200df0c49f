/**
 * Plain-language descriptions of scopes for the consent page ("Read your lab results"). This is
 * presentation only: which scopes exist and what they grant is decided by auth's scope grammar;
 * a scope this file cannot word is shown with the description auth supplied.
 */

const STATIC: Readonly<Record<string, string>> = {
  openid: 'Confirm who you are when you sign in',
  fhirUser: 'Know who you are in the health record',
  profile: 'See your name',
  launch: 'Open with the patient (and visit) you have open',
  'launch/patient': 'Know which patient is selected',
  'launch/encounter': 'Know which visit is selected',
  offline_access: 'Keep access after you close the app, until you revoke it',
  online_access: 'Keep access while you stay signed in',
};

const NOUNS: Readonly<Record<string, string>> = {
  '*': 'health records of every kind',
  Patient: 'demographics (name, birth date, contact details)',
  Observation: 'lab results, vital signs and other measurements',
  Condition: 'conditions and diagnoses',
  MedicationRequest: 'prescriptions',
  MedicationStatement: 'medication lists',
  AllergyIntolerance: 'allergies',
  Immunization: 'immunizations',
  Procedure: 'procedures',
  Encounter: 'visits',
  DiagnosticReport: 'test reports',
  DocumentReference: 'clinical documents',
  CarePlan: 'care plans',
  Practitioner: 'clinician details',
  Organization: 'organization details',
};

const CATEGORY_NOUNS: Readonly<Record<string, string>> = {
  laboratory: 'lab results',
  'vital-signs': 'vital signs',
  'social-history': 'social history',
  survey: 'survey answers',
  imaging: 'imaging results',
  exam: 'exam findings',
  sdoh: 'social needs information',
  'problem-list-item': 'problem list',
  'encounter-diagnosis': 'visit diagnoses',
  'health-concern': 'health concerns',
};

const CLINICAL =
  /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)(?:\?(.*))?$/;

function verb(permissions: string): string | undefined {
  const v1: Readonly<Record<string, [boolean, boolean]>> = {
    read: [true, false],
    write: [false, true],
    '*': [true, true],
  };
  const [reads, writes] = v1[permissions] ?? [/[rs]/.test(permissions), /[cud]/.test(permissions)];
  if (reads && writes) return 'Read and change';
  if (reads) return 'Read';
  if (writes) return 'Add or change';
  return undefined;
}

function noun(type: string, query: string | undefined): string | undefined {
  if (query === undefined)
    return NOUNS[type] ?? type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() + ' records';
  const params = new URLSearchParams(query);
  const category = params.get('category');
  if (category === null || [...params.keys()].length !== 1) return undefined;
  const code = category.split('|').pop() ?? '';
  return CATEGORY_NOUNS[code];
}

/**
 * A sentence for one scope, from the point of view of the person consenting: a patient reads
 * "your", a clinician "this patient's". Undefined when the scope is not one this file can word.
 */
export function describeScope(scope: string, patientFacing: boolean): string | undefined {
  const fixed = STATIC[scope];
  if (fixed !== undefined) return fixed;
  const m = CLINICAL.exec(scope);
  if (m === null) return undefined;
  const [, context = '', type = '', permissions = '', query] = m;
  const action = verb(permissions);
  const what = noun(type, query);
  if (action === undefined || what === undefined) return undefined;
  if (context === 'patient')
    return `${action} ${patientFacing ? 'your' : "this patient's"} ${what}`;
  if (context === 'user') return `${action} ${what} you can access`;
  return `${action} ${what} of every patient`;
}
