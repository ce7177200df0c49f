import {
  indexStructureDefinitionBundle,
  OperationOutcomeError,
  validateResource,
} from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { readDefinition } from './definitions.js';
import { issue, type OutcomeIssue } from './outcome.js';
import { checkRequiredBindings } from './required-bindings.js';
import { isResourceType, isValidId } from './resource-types.js';

/** Longest string a resource may carry outside base64 `data` elements (FHIR: 1 MB). */
export const MAX_STRING_LENGTH = 1_048_576;

let indexed = false;

/** Loads the R4 StructureDefinitions into the validator (once per process; ~1–3 s). */
export function loadValidator(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readDefinition<Bundle>('profiles-types.json'));
  indexStructureDefinitionBundle(readDefinition<Bundle>('profiles-resources.json'));
  indexed = true;
  // Warm the validator and the required-binding tables so the first write is not slow.
  validateFhirResource({ resourceType: 'Patient', gender: 'unknown' });
}

function hugeStrings(value: unknown, at: string, out: OutcomeIssue[]): void {
  if (typeof value === 'string') {
    if (value.length > MAX_STRING_LENGTH && !at.endsWith('.data')) {
      out.push(
        issue('error', 'too-long', `string longer than ${MAX_STRING_LENGTH} characters`, [at]),
      );
    }
  } else if (Array.isArray(value)) {
    value.forEach((v: unknown, i) => {
      hugeStrings(v, `${at}[${i}]`, out);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) hugeStrings(v, `${at}.${k}`, out);
  }
}

/**
 * Validates a resource (plain JSON, numbers as numbers) against the R4 base StructureDefinitions:
 * resource type, id format, element names and JSON types, cardinality, required elements, primitive
 * formats, and codes of required bindings. Returns error issues with FHIRPath expressions.
 */
export function validateFhirResource(value: unknown): OutcomeIssue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [issue('error', 'structure', 'a resource must be a JSON object')];
  }
  const res = value as Record<string, unknown>;
  const type = res.resourceType;
  if (typeof type !== 'string' || !isResourceType(type)) {
    return [
      issue(
        'error',
        'structure',
        `unknown resourceType ${typeof type === 'string' ? type : ((JSON.stringify(type) as string | undefined) ?? 'undefined')}`,
        ['resourceType'],
      ),
    ];
  }
  if (res.id !== undefined && (typeof res.id !== 'string' || !isValidId(res.id))) {
    return [
      issue('error', 'value', 'id must be 1-64 characters of A-Z a-z 0-9 - .', [`${type}.id`]),
    ];
  }
  const out: OutcomeIssue[] = [];
  hugeStrings(res, type, out);
  if (out.length > 0) return out;
  loadValidator();
  try {
    for (const i of validateResource(res as unknown as Resource)) {
      if (i.severity === 'error' || i.severity === 'fatal') out.push(fromMedplum(i));
    }
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    for (const i of err.outcome.issue) {
      if (i.severity === 'error' || i.severity === 'fatal') out.push(fromMedplum(i));
    }
  }
  out.push(...checkRequiredBindings(res as Record<string, unknown> & { resourceType: string }));
  return out;
}

function fromMedplum(i: {
  severity?: string;
  code?: string;
  details?: { text?: string };
  diagnostics?: string;
  expression?: string[];
}): OutcomeIssue {
  const code =
    i.code === 'invariant' ? 'invariant' : i.code === 'required' ? 'required' : 'structure';
  return issue('error', code, i.details?.text ?? i.diagnostics ?? 'invalid', i.expression);
}
