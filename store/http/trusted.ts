import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest } from '../fhir/outcome.js';
import { patientCompartments } from '../fhir/patient-compartment.js';
import {
  CONSTRAINT_HEADER,
  decodeConstraint,
  DISCLOSURE_HEADER,
  encodeOwners,
  ENTITIES_HEADER,
  INTERNAL_SECRET_HEADER,
  MAX_DISCLOSURE_HEADER_BYTES,
  OWNERS_HEADER,
  PATIENTS_HEADER,
  type AccessConstraint,
} from '../protocol.js';
import type { Disclosure } from './types.js';

/** Whether the caller proved it is trusted (x-hearth-internal equals the shared secret). */
export function isTrusted(headers: IncomingHttpHeaders, secret: string | undefined): boolean {
  const sent = headers[INTERNAL_SECRET_HEADER];
  if (secret === undefined || secret === '' || typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The trusted caller's access constraint, if it sent one; malformed is a 400, never ignored. */
export function constraintOf(headers: IncomingHttpHeaders): AccessConstraint | undefined {
  const raw = headers[CONSTRAINT_HEADER];
  if (typeof raw !== 'string' || raw === '') return undefined;
  try {
    return decodeConstraint(raw);
  } catch (err) {
    throw badRequest(
      `bad ${CONSTRAINT_HEADER}: ${err instanceof Error ? err.message : 'malformed'}`,
    );
  }
}

/**
 * The audit headers for a trusted caller: disclosed entities, their patient compartments, and which
 * entity belongs to which patient.
 */
export function disclosureHeaders(disclosed: Disclosure[]): Record<string, string> {
  const owners = new Map<string, Set<number>>();
  const patients = new Map<string, number>();
  const patientIndex = (p: string): number => {
    let ix = patients.get(p);
    if (ix === undefined) patients.set(p, (ix = patients.size));
    return ix;
  };
  for (const d of disclosed) {
    const entity = d.version > 0 ? `${d.type}/${d.id}/_history/${d.version}` : `${d.type}/${d.id}`;
    let own = owners.get(entity);
    if (own === undefined) owners.set(entity, (own = new Set()));
    const resource =
      d.resource ??
      (d.json === undefined ? undefined : (JSON.parse(d.json) as Record<string, unknown>));
    if (resource !== undefined)
      for (const p of patientCompartments(resource)) own.add(patientIndex(p));
    else if (d.type === 'Patient') own.add(patientIndex(d.id));
  }
  const out: Record<string, string> = {};
  if (owners.size > 0) {
    out[ENTITIES_HEADER] = [...owners.keys()].join(',');
    out[OWNERS_HEADER] = encodeOwners([...owners.values()].map((o) => [...o]));
  }
  if (patients.size > 0) out[PATIENTS_HEADER] = [...patients.keys()].join(',');
  const size =
    (out[ENTITIES_HEADER]?.length ?? 0) +
    (out[PATIENTS_HEADER]?.length ?? 0) +
    (out[OWNERS_HEADER]?.length ?? 0);
  // Too large for a header block: the caller reads the disclosure from the body instead.
  if (size > MAX_DISCLOSURE_HEADER_BYTES) return { [DISCLOSURE_HEADER]: 'body' };
  return out;
}
