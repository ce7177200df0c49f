import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest } from '../fhir/outcome.js';
import { patientCompartments, storedPatientCompartments } from '../fhir/patient-compartment.js';
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

/** The secret's bytes, kept (one secret per process): encoded once, not on every request. */
let secretBytes: { secret: string; bytes: Buffer } | undefined;

function bytesOf(secret: string): Buffer {
  if (secretBytes?.secret !== secret) secretBytes = { secret, bytes: Buffer.from(secret) };
  return secretBytes.bytes;
}

/** Whether the caller proved it is trusted (x-hearth-internal equals the shared secret). */
export function isTrusted(headers: IncomingHttpHeaders, secret: string | undefined): boolean {
  const sent = headers[INTERNAL_SECRET_HEADER];
  if (secret === undefined || secret === '' || typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = bytesOf(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Decoded constraints by header text. The gateway encodes one constraint per token and sends the
 * same text on each of its requests; decoding it (base64url, JSON, checks) took ~1 µs for a
 * system token's and ~100 µs for a patient token's (one entry per resource type) on every request.
 * Entries are deep-frozen, so no request can change what the next one sees.
 */
const decoded = new Map<string, AccessConstraint>();
const MAX_DECODED = 256;

function deepFreeze(c: AccessConstraint): AccessConstraint {
  for (const access of Object.values(c.types)) {
    if (access.anyOf !== undefined) Object.freeze(access.anyOf);
    Object.freeze(access);
  }
  Object.freeze(c.types);
  return Object.freeze(c);
}

/** The trusted caller's access constraint, if it sent one; malformed is a 400, never ignored. */
export function constraintOf(headers: IncomingHttpHeaders): AccessConstraint | undefined {
  const raw = headers[CONSTRAINT_HEADER];
  if (typeof raw !== 'string' || raw === '') return undefined;
  const known = decoded.get(raw);
  if (known !== undefined) return known;
  let c: AccessConstraint;
  try {
    c = deepFreeze(decodeConstraint(raw));
  } catch (err) {
    throw badRequest(
      `bad ${CONSTRAINT_HEADER}: ${err instanceof Error ? err.message : 'malformed'}`,
    );
  }
  if (decoded.size >= MAX_DECODED) decoded.clear();
  decoded.set(raw, c);
  return c;
}

/**
 * The patients whose compartments a disclosed version is in. Stored text is parsed only when its
 * compartments can differ from what its type and id alone say (see storedPatientCompartments).
 */
function ownersOf(d: Disclosure): string[] {
  if (d.resource !== undefined) return patientCompartments(d.resource);
  if (d.json !== undefined) return storedPatientCompartments(d.type, d.id, d.json);
  return d.type === 'Patient' ? [d.id] : [];
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
    for (const p of ownersOf(d)) own.add(patientIndex(p));
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
  // Too large for a header block: the caller reads the disclosure from the body instead, and the
  // patients from here when they fit (a body written with `Prefer: return=minimal` names what it
  // wrote but not whose it is).
  if (size > MAX_DISCLOSURE_HEADER_BYTES) {
    const who = out[PATIENTS_HEADER];
    return who !== undefined && who.length <= MAX_DISCLOSURE_HEADER_BYTES
      ? { [DISCLOSURE_HEADER]: 'body', [PATIENTS_HEADER]: who }
      : { [DISCLOSURE_HEADER]: 'body' };
  }
  return out;
}
