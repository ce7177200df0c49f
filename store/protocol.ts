/**
 * The trusted-caller protocol between the gateway and the built-in store (HTTP headers).
 *
 * The store honours these request headers only when `x-hearth-internal` carries the shared secret
 * the composition root gave both processes (env `HEARTH_INTERNAL_SECRET`). The gateway strips every
 * `x-hearth-*` header a client sends before proxying.
 */

/** The store's trusted bulk endpoints (store/bulk): the export stream and the versioned import. */
export const BULK_EXPORT_PATH = '/_bulk/export';
export const BULK_IMPORT_PATH = '/_bulk/import';

/** Request: the shared secret proving the caller is the gateway (or another trusted process). */
export const INTERNAL_SECRET_HEADER = 'x-hearth-internal';
/** Request: base64url(JSON) of an {@link AccessConstraint}. */
export const CONSTRAINT_HEADER = 'x-hearth-constraint';
/** Request: the caller's request id, echoed in the store's logs. */
export const REQUEST_ID_HEADER = 'x-request-id';
/**
 * Response (trusted callers only): comma-separated ids of the Patient compartments that the
 * resources disclosed or changed by this response belong to (`123,456`), for BALP audit.
 */
export const PATIENTS_HEADER = 'x-hearth-patients';
/**
 * Response (trusted callers only): comma-separated `Type/id/_history/version` of every resource
 * disclosed or changed by this response (entries and includes of a search page too).
 */
export const ENTITIES_HEADER = 'x-hearth-entities';
/**
 * Response (trusted callers only): which patients each entity of {@link ENTITIES_HEADER} belongs to,
 * so each patient's AuditEvent names only that patient's resources. One item per entity, in the
 * same order, comma-separated; an item is the `.`-separated indexes into {@link PATIENTS_HEADER}
 * (`0,0.1,,2`: the third entity belongs to no patient).
 */
export const OWNERS_HEADER = 'x-hearth-owners';

/**
 * Response (trusted callers only): `body` when the two headers above would be too large for an HTTP
 * header block (big transactions, long search pages); the caller then reads the disclosed resources
 * from the response body itself.
 */
export const DISCLOSURE_HEADER = 'x-hearth-disclosure';
/**
 * Largest combined size of the entities, owners and patients headers before {@link DISCLOSURE_HEADER}
 * (about 98 bytes per disclosed Patient, 62 per resource of a known patient): a transaction of
 * `BUNDLE_MAX_ENTRIES` (500) resources or a page of `SEARCH_MAX_COUNT` (1,000) Patients fits. It
 * was 8 KiB, so a transaction of more than about 130 resources made the gateway parse the whole
 * response (every created resource) just to learn its disclosure: 14 % of the event loop's busy
 * time during the bench's ingest (README, round twenty-four).
 */
export const MAX_DISCLOSURE_HEADER_BYTES = 256 * 1024;
/**
 * The largest response header block the gateway reads from the built-in store: the disclosure at
 * its largest and room for the rest (undici's own default is 16 KiB).
 */
export const STORE_RESPONSE_MAX_HEADER_BYTES = MAX_DISCLOSURE_HEADER_BYTES + 64 * 1024;

/** The {@link OWNERS_HEADER} value for entities whose owners are indexes into the patient list. */
export function encodeOwners(owners: readonly (readonly number[])[]): string {
  return owners.map((o) => o.join('.')).join(',');
}

/**
 * Each patient's entities, from the three disclosure headers' lists; `undefined` when the owners
 * list does not fit the others (a caller then falls back to naming every entity for every patient).
 */
export function decodeOwners(
  entities: readonly string[],
  patients: readonly string[],
  owners: string | undefined,
): Map<string, string[]> | undefined {
  if (owners === undefined) return undefined;
  const items = entities.length === 0 ? [] : owners.split(',');
  if (items.length !== entities.length) return undefined;
  const byPatient = new Map<string, string[]>(patients.map((p) => [p, []]));
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as string;
    if (item === '') continue;
    for (const ix of item.split('.')) {
      const patient = /^\d+$/.test(ix) ? patients[Number(ix)] : undefined;
      if (patient === undefined) return undefined;
      byPatient.get(patient)?.push(entities[i] as string);
    }
  }
  return byPatient;
}

/** Every header name of this protocol starts with this prefix. */
export const INTERNAL_HEADER_PREFIX = 'x-hearth-';

/**
 * Confines a request to what the caller may see, applied inside the query (matches, includes,
 * revincludes, chains, `_has`, `$everything`, history, conditional-operation searches, totals,
 * paging). A resource outside it is answered exactly like a missing one (404).
 */
export interface AccessConstraint {
  /**
   * Per resource type, how it may be accessed; the key `*` applies to every type not listed.
   * A type that is neither listed nor covered by `*` is invisible.
   */
  types: Record<string, TypeAccess>;
}

export interface TypeAccess {
  /** `Patient/123`: only resources in that patient's compartment (the Patient itself included). */
  compartment?: string;
  /**
   * Granular filters, each a FHIR search query string for this type (`category=http://…|laboratory`).
   * A resource must match at least one (OR). Absent or empty: no filter.
   */
  anyOf?: string[];
}

export function encodeConstraint(c: AccessConstraint): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

/** Throws on anything that is not a well-formed constraint (the store answers 400, never ignores). */
export function decodeConstraint(header: string): AccessConstraint {
  const value: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  if (typeof value !== 'object' || value === null || !('types' in value)) {
    throw new Error('constraint must be an object with "types"');
  }
  const types = value.types;
  if (typeof types !== 'object' || types === null || Array.isArray(types)) {
    throw new Error('constraint "types" must be an object');
  }
  const out: Record<string, TypeAccess> = {};
  for (const [type, access] of Object.entries(types as Record<string, unknown>)) {
    if (typeof access !== 'object' || access === null) throw new Error(`bad access for ${type}`);
    const a = access as Record<string, unknown>;
    const t: TypeAccess = {};
    if (a.compartment !== undefined) {
      if (
        typeof a.compartment !== 'string' ||
        !/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(a.compartment)
      ) {
        throw new Error(`bad compartment for ${type}`);
      }
      t.compartment = a.compartment;
    }
    if (a.anyOf !== undefined) {
      if (!Array.isArray(a.anyOf) || !a.anyOf.every((q) => typeof q === 'string')) {
        throw new Error(`bad anyOf for ${type}`);
      }
      t.anyOf = a.anyOf;
    }
    out[type] = t;
  }
  return { types: out };
}
