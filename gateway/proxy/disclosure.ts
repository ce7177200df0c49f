import type { IncomingHttpHeaders } from 'node:http';
import {
  decodeOwners,
  DISCLOSURE_HEADER,
  ENTITIES_HEADER,
  OWNERS_HEADER,
  PATIENTS_HEADER,
} from '../../store/protocol.js';

/** What a FHIR response body disclosed: resource versions and the patients they belong to. */
export interface Disclosure {
  entities: string[];
  patients: string[];
  /**
   * Which entities belong to which patient, so each patient's AuditEvent names only that patient's
   * resources: a search disclosing P patients and R resources would otherwise record P × R entities
   * (at 600 patients, `Patient?_count=1000` made one audit batch of 360,000 entities, >1 GiB).
   */
  byPatient: Map<string, string[]>;
}

export type PatientsOf = (resource: { resourceType?: unknown; id?: unknown }) => string[];

interface ResourceLike {
  resourceType?: unknown;
  id?: unknown;
  meta?: { versionId?: unknown };
  entry?: unknown;
}

function versioned(r: ResourceLike): string | undefined {
  if (typeof r.resourceType !== 'string' || typeof r.id !== 'string') return undefined;
  const v = r.meta?.versionId;
  return typeof v === 'string'
    ? `${r.resourceType}/${r.id}/_history/${v}`
    : `${r.resourceType}/${r.id}`;
}

/** The resources a parsed response carries: a resource itself, or a Bundle's entries. */
export function resourcesIn(body: unknown): ResourceLike[] {
  if (typeof body !== 'object' || body === null) return [];
  const r = body as ResourceLike;
  if (r.resourceType === 'OperationOutcome') return [];
  if (r.resourceType !== 'Bundle') return [r];
  const entries = Array.isArray(r.entry) ? (r.entry as { resource?: unknown }[]) : [];
  return entries.flatMap((e) => resourcesIn(e.resource));
}

/** `Type/id/_history/v` at the end of a response's `location` (relative or absolute). */
const LOCATION =
  /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})\/_history\/([A-Za-z0-9\-.]{1,64})$/;

/**
 * What the entries of a transaction or batch response without their resources wrote: the
 * versions their `response.location` names (`Prefer: return=minimal` leaves the resources out).
 */
function locationsIn(body: unknown): { entity: string; type: string; id: string }[] {
  if (typeof body !== 'object' || body === null) return [];
  const b = body as { resourceType?: unknown; entry?: unknown };
  if (b.resourceType !== 'Bundle' || !Array.isArray(b.entry)) return [];
  return (b.entry as { resource?: unknown; response?: { location?: unknown } }[]).flatMap((e) => {
    const location = e.response?.location;
    if (e.resource !== undefined || typeof location !== 'string') return [];
    const m = LOCATION.exec(location);
    if (m === null) return [];
    const [, type = '', id = '', version = ''] = m;
    return [{ entity: `${type}/${id}/_history/${version}`, type, id }];
  });
}

/** Entities and patients of a parsed response body (for backends that do not report them). */
export function disclosureOf(body: unknown, patientsOf: PatientsOf): Disclosure {
  const entities = new Set<string>();
  const owned = new Map<string, Set<string>>();
  const own = (p: string, e: string | undefined): void => {
    let set = owned.get(p);
    if (set === undefined) owned.set(p, (set = new Set()));
    if (e !== undefined) set.add(e);
  };
  for (const r of resourcesIn(body)) {
    const e = versioned(r);
    if (e !== undefined) entities.add(e);
    for (const p of patientsOf(r)) own(p, e);
  }
  // A written resource not sent back is still named; its patients are known only for a Patient
  // (the built-in store reports them in headers up to MAX_DISCLOSURE_HEADER_BYTES).
  for (const w of locationsIn(body)) {
    entities.add(w.entity);
    if (w.type === 'Patient') own(w.id, w.entity);
  }
  const byPatient = new Map<string, string[]>();
  for (const [p, set] of owned) byPatient.set(p, [...set]);
  return { entities: [...entities], patients: [...owned.keys()], byPatient };
}

/**
 * The built-in store's disclosure when it was too large for its headers (`x-hearth-disclosure:
 * body`): read from the parsed body, and the patients it still reported in `x-hearth-patients`
 * that the body does not name (resources written with `Prefer: return=minimal` are not in it)
 * taken to own every entity the body gives no patient, as without an owners list.
 */
export function disclosureOfBody(
  body: unknown,
  headers: IncomingHttpHeaders,
  patientsOf: PatientsOf,
): Disclosure {
  const d = disclosureOf(body, patientsOf);
  const unnamed = headerList(headers[PATIENTS_HEADER]).filter((p) => !d.byPatient.has(p));
  if (unnamed.length === 0) return d;
  const owned = new Set([...d.byPatient.values()].flat());
  const orphans = d.entities.filter((e) => !owned.has(e));
  const byPatient = new Map(d.byPatient);
  for (const p of unnamed) byPatient.set(p, orphans);
  return { entities: d.entities, patients: [...d.patients, ...unnamed], byPatient };
}

/**
 * What a built-in store's response disclosed: from its headers, or from its body when the store
 * said the disclosure was too large for them (`body` parses it only then).
 */
export function storeDisclosure(
  headers: IncomingHttpHeaders,
  body: () => unknown,
  patientsOf: PatientsOf,
): Disclosure {
  return headers[DISCLOSURE_HEADER] === 'body'
    ? disclosureOfBody(body(), headers, patientsOf)
    : disclosureOfHeaders(headers);
}

/**
 * What the built-in store reported in its disclosure headers (`x-hearth-entities`, `-patients`,
 * `-owners`). Without a usable owners list every patient is taken to own every entity.
 */
export function disclosureOfHeaders(headers: IncomingHttpHeaders): Disclosure {
  const entities = headerList(headers[ENTITIES_HEADER]);
  const patients = headerList(headers[PATIENTS_HEADER]);
  const owners = headers[OWNERS_HEADER];
  const byPatient =
    decodeOwners(entities, patients, typeof owners === 'string' ? owners : undefined) ??
    new Map(patients.map((p) => [p, entities]));
  return { entities, patients, byPatient };
}

/** The part of a request's audit state that a disclosure adds to. */
export interface DisclosureSink {
  entities: string[];
  patients: string[];
  entitiesByPatient?: ReadonlyMap<string, readonly string[]>;
}

/**
 * Adds a response's disclosure to the request's audit. Each patient keeps only its own entities,
 * also across the responses of a batch's entries.
 */
export function noteDisclosure(audit: DisclosureSink, d: Disclosure): void {
  audit.entities.push(...d.entities);
  audit.patients.push(...d.patients);
  const prior = audit.entitiesByPatient;
  if (prior === undefined) {
    audit.entitiesByPatient = d.byPatient;
    return;
  }
  const merged = new Map(prior);
  for (const [p, own] of d.byPatient) merged.set(p, [...(merged.get(p) ?? []), ...own]);
  audit.entitiesByPatient = merged;
}

/** A comma-separated trusted header (`x-hearth-entities`) as a list. */
export function headerList(value: string | string[] | undefined): string[] {
  const v = Array.isArray(value) ? value.join(',') : value;
  return v === undefined || v === ''
    ? []
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}
