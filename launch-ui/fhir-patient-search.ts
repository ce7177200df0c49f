import type { Bundle, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import type {
  PatientSearchResult,
  PatientSummary,
  SearchPatients,
  UserInfo,
} from '../auth/index.js';

/**
 * Builds the `searchPatients` function auth's picker and the launch UI share, over a FHIR search:
 * main.ts supplies `fetchBundle`, which GETs a URL relative to the FHIR base through the gateway as
 * the given user (so FHIR_UPSTREAM works and every look-up is audited). Page n follows the
 * searchset's `next` links (the store pages with keyset cursors, not offsets).
 */
export type FetchSearchBundle = (relativeUrl: string, user: UserInfo) => Promise<Bundle>;

export interface FhirPatientSearchOptions {
  readonly fetchBundle: FetchSearchBundle;
  /** The FHIR base URL (`config.fhirBaseUrl`): absolute `next` links are made relative to it. */
  readonly fhirBaseUrl: string;
  readonly pageSize?: number;
}

/** Follow at most this many `next` links to reach a page (the picker is for finding, not browsing). */
const MAX_PAGE = 50;

export function displayName(names: readonly HumanName[] | undefined): string {
  const n = names?.find((x) => x.use === 'official') ?? names?.[0];
  if (n === undefined) return 'Unnamed patient';
  if (n.text !== undefined && n.text !== '') return n.text;
  return (
    [...(n.prefix ?? []), ...(n.given ?? []), n.family ?? ''].filter((s) => s !== '').join(' ') ||
    'Unnamed patient'
  );
}

function mainIdentifier(ids: readonly Identifier[] | undefined): string | undefined {
  const mrn = ids?.find((i) => i.type?.coding?.some((c) => c.code === 'MR') === true);
  return (mrn ?? ids?.[0])?.value;
}

export function summarisePatient(p: Patient): PatientSummary {
  return {
    id: p.id ?? '',
    name: displayName(p.name),
    birthDate: p.birthDate,
    gender: p.gender,
    identifier: mainIdentifier(p.identifier),
  };
}

function nextLink(bundle: Bundle, base: string): string | undefined {
  const url = bundle.link?.find((l) => l.relation === 'next')?.url;
  if (url === undefined) return undefined;
  return url.startsWith(`${base}/`) ? url.slice(base.length + 1) : url;
}

export function createFhirPatientSearch(o: FhirPatientSearchOptions): SearchPatients {
  const base = o.fhirBaseUrl.replace(/\/+$/, '');
  const size = o.pageSize ?? 10;
  return async (query, user): Promise<PatientSearchResult> => {
    const params = new URLSearchParams();
    if (query.id !== undefined) params.set('_id', query.id);
    if (query.name !== undefined && query.name !== '') params.set('name', query.name);
    if (query.birthdate !== undefined && query.birthdate !== '')
      params.set('birthdate', query.birthdate);
    params.set('_sort', 'family,given');
    params.set('_count', String(size));
    const page = Math.min(Math.max(1, Math.floor(query.page)), MAX_PAGE);
    let bundle = await o.fetchBundle(`Patient?${params.toString()}`, user);
    for (let n = 1; n < page; n++) {
      const next = nextLink(bundle, base);
      if (next === undefined) return { patients: [] };
      bundle = await o.fetchBundle(next, user);
    }
    const patients = (bundle.entry ?? [])
      .filter((e) => e.search?.mode !== 'include')
      .map((e) => e.resource)
      .filter((r): r is Patient => r?.resourceType === 'Patient')
      .map(summarisePatient);
    const more = nextLink(bundle, base) !== undefined && page < MAX_PAGE;
    return { patients, next: more ? page + 1 : undefined };
  };
}
