import type { IncomingHttpHeaders } from 'node:http';
import {
  decodeOwners,
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

/** Entities and patients of a parsed response body (for backends that do not report them). */
export function disclosureOf(body: unknown, patientsOf: PatientsOf): Disclosure {
  const entities = new Set<string>();
  const owned = new Map<string, Set<string>>();
  for (const r of resourcesIn(body)) {
    const e = versioned(r);
    if (e !== undefined) entities.add(e);
    for (const p of patientsOf(r)) {
      let own = owned.get(p);
      if (own === undefined) owned.set(p, (own = new Set()));
      if (e !== undefined) own.add(e);
    }
  }
  const byPatient = new Map<string, string[]>();
  for (const [p, own] of owned) byPatient.set(p, [...own]);
  return { entities: [...entities], patients: [...owned.keys()], byPatient };
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
