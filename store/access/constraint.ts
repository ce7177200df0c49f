import {
  indexSearchParameterBundle,
  matchesSearchRequest,
  parseSearchRequest,
} from '@medplum/core';
import type { Bundle, Resource, SearchParameter } from '@medplum/fhirtypes';
import { readDefinition } from '../fhir/definitions.js';
import { patientCompartments } from '../fhir/patient-compartment.js';
import { prepareTypesFor } from '../fhir/type-schemas.js';
import type { AccessConstraint, TypeAccess } from '../protocol.js';

/**
 * Whether a trusted caller's access constraint lets it see one resource (reads, writes, history).
 * Searches apply the same constraint inside their queries (store/search).
 */

let searchParamsIndexed = false;

function ensureSearchParams(): void {
  if (searchParamsIndexed) return;
  indexSearchParameterBundle(readDefinition<Bundle<SearchParameter>>('search-parameters.json'));
  searchParamsIndexed = true;
}

/** Parsed granular filters (`Type?query`), kept: a token sends the same few on every request. */
const parsedFilters = new Map<string, ReturnType<typeof parseSearchRequest>>();

function parsedFilter(type: string, query: string): ReturnType<typeof parseSearchRequest> {
  const key = `${type}?${query}`;
  let parsed = parsedFilters.get(key);
  if (parsed === undefined) {
    parsed = parseSearchRequest(key);
    if (parsedFilters.size >= 1000) parsedFilters.clear();
    parsedFilters.set(key, parsed);
  }
  return parsed;
}

export function typeAccess(c: AccessConstraint, type: string): TypeAccess | undefined {
  return c.types[type] ?? c.types['*'];
}

export function allows(
  c: AccessConstraint | undefined,
  resource: Record<string, unknown>,
): boolean {
  if (c === undefined) return true;
  const type = typeof resource.resourceType === 'string' ? resource.resourceType : '';
  const access = typeAccess(c, type);
  if (access === undefined) return false;
  if (access.compartment !== undefined) {
    const pid = access.compartment.slice('Patient/'.length);
    if (!patientCompartments(resource).includes(pid)) return false;
  }
  if (access.anyOf !== undefined && access.anyOf.length > 0) {
    ensureSearchParams();
    // Medplum's FHIRPath types values by the loaded definitions: load the ones this resource uses.
    prepareTypesFor(resource);
    return access.anyOf.some((q) => {
      try {
        return matchesSearchRequest(resource as unknown as Resource, parsedFilter(type, q));
      } catch {
        return false;
      }
    });
  }
  return true;
}
