import { badRequest } from '../fhir/outcome.js';
import { isResourceType, isValidId } from '../fhir/resource-types.js';

/**
 * What the trusted caller asks the store's bulk export stream for: one resource type, read in rid
 * order after a cursor, so an interrupted export resumes exactly where it stopped.
 */
export interface ExportQuery {
  type: string;
  /** Only resources whose rid is greater (the resume cursor; 0 from the start). */
  afterRid: number;
  /** ms since epoch: only resources last updated after it (`_since`). */
  since?: number;
  /** ms since epoch: only resources last updated at or before it (`_until`, the transaction time). */
  until?: number;
  /** Patient-level export: only resources in a patient compartment (these patients when given). */
  patients?: string[];
  /** `_typeFilter` queries for this type: a resource must match one (absent: no filter). */
  typeFilters?: string[];
  /** Filters of the caller's granular scopes: a resource must match one (absent: no filter). */
  scopeFilters?: string[];
  /** `_elements`: top-level elements to keep (mandatory ones always kept). */
  elements?: string[];
}

function optionalNumber(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`${name} must be a number`);
  return v;
}

function optionalStrings(v: unknown, name: string, check?: (s: string) => boolean) {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && (check?.(s) ?? true))) {
    throw badRequest(`${name} must be an array of strings`);
  }
  return v as string[];
}

/** Validates the JSON body of `POST /_bulk/export` (400 on anything malformed). */
export function parseExportQuery(body: unknown): ExportQuery {
  if (typeof body !== 'object' || body === null) throw badRequest('export query must be an object');
  const b = body as Record<string, unknown>;
  if (typeof b.type !== 'string' || !isResourceType(b.type)) throw badRequest('unknown type');
  const q: ExportQuery = { type: b.type, afterRid: optionalNumber(b.afterRid, 'afterRid') ?? 0 };
  const since = optionalNumber(b.since, 'since');
  const until = optionalNumber(b.until, 'until');
  const patients = optionalStrings(b.patients, 'patients', isValidId);
  const typeFilters = optionalStrings(b.typeFilters, 'typeFilters');
  const scopeFilters = optionalStrings(b.scopeFilters, 'scopeFilters');
  const elements = optionalStrings(b.elements, 'elements', (s) => /^[A-Za-z][A-Za-z0-9]*$/.test(s));
  if (since !== undefined) q.since = since;
  if (until !== undefined) q.until = until;
  if (patients !== undefined) q.patients = patients;
  if (typeFilters !== undefined) q.typeFilters = typeFilters;
  if (scopeFilters !== undefined) q.scopeFilters = scopeFilters;
  if (elements !== undefined) q.elements = elements;
  return q;
}
