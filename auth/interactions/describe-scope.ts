import { parseScope, type ClinicalScope } from '../scopes/index.js';

const STATIC_LABELS: Record<string, string> = {
  openid: 'Know who you are',
  fhirUser: 'Know your FHIR user record',
  profile: 'See your name',
  launch: 'Use the context the EHR launched it with',
  'launch/patient': 'Know which patient is selected',
  'launch/encounter': 'Know which encounter is selected',
  offline_access: 'Keep access when you are not using it',
  online_access: 'Keep access while you are signed in',
};

const VERBS: Record<string, string> = {
  c: 'create',
  r: 'read',
  u: 'update',
  d: 'delete',
  s: 'search',
};

function describeClinical(s: ClinicalScope): string {
  const verbs = [...s.permissions].map((p) => VERBS[p] ?? p);
  const what = s.resourceType === '*' ? 'all record types' : `${s.resourceType} records`;
  const whose =
    s.context === 'patient'
      ? 'of the selected patient'
      : s.context === 'user'
        ? 'you can access'
        : 'of any patient';
  const filter =
    s.query.length > 0
      ? ` (only ${s.query.map(([, v]) => v.split('|').pop() ?? v).join(', ')})`
      : '';
  const list =
    verbs.length > 1
      ? `${verbs.slice(0, -1).join(', ')} and ${verbs.at(-1) ?? ''}`
      : (verbs[0] ?? '');
  return `${list.charAt(0).toUpperCase()}${list.slice(1)} ${what} ${whose}${filter}`;
}

/** A human description of a scope for the consent page. */
export function describeScope(scope: string): string {
  const parsed = parseScope(scope);
  if (parsed === undefined) return scope;
  if (parsed.kind === 'static') return STATIC_LABELS[parsed.name] ?? scope;
  return describeClinical(parsed);
}
