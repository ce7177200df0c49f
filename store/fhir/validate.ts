import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { issue, type OutcomeIssue } from './outcome.js';
import { quickAccept } from './quick-accept.js';
import { checkRequiredBindings } from './required-bindings.js';
import { isResourceType, isValidId } from './resource-types.js';
import {
  loadDataTypes,
  loadDataTypesStep,
  loadTypesUsedBy,
  useTypeSchemas,
} from './type-schemas.js';

/** Longest string a resource may carry outside base64 `data` elements (FHIR: 1 MB). */
export const MAX_STRING_LENGTH = 1_048_576;

/**
 * Loads what the validator needs before any resource type: the R4 data types (~0.1 s of CPU;
 * each resource type's definition loads the first time a resource uses it, see type-schemas.ts).
 */
export function loadValidator(): void {
  useTypeSchemas();
  loadDataTypes();
}

/**
 * {@link loadValidator} in small steps that yield to the event loop between them, so a process
 * warming up keeps answering (health checks, reads) meanwhile; then validates a Patient, so the
 * first write finds the validator's code warm. A write arriving earlier loads the rest at once.
 */
export async function warmUpValidator(): Promise<void> {
  useTypeSchemas();
  while (loadDataTypesStep()) await new Promise((resolve) => setImmediate(resolve));
  validateFhirResource({ resourceType: 'Patient', gender: 'unknown' });
}

/** True when `value` holds a string longer than MAX_STRING_LENGTH anywhere (no paths built). */
function holdsHugeString(value: unknown): boolean {
  if (typeof value === 'string') return value.length > MAX_STRING_LENGTH;
  if (Array.isArray(value)) return value.some(holdsHugeString);
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) if (holdsHugeString(v)) return true;
  }
  return false;
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
  // the paths of the issues are built only for a resource that has such a string
  if (holdsHugeString(res)) hugeStrings(res, type, out);
  if (out.length > 0) return out;
  useTypeSchemas();
  loadTypesUsedBy(res);
  if (quickAccepts(res)) {
    return checkRequiredBindings(res as Record<string, unknown> & { resourceType: string });
  }
  try {
    for (const i of validateResource(res as unknown as Resource)) {
      if (i.severity === 'error' || i.severity === 'fatal') out.push(fromMedplum(i));
    }
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      for (const i of err.outcome.issue) {
        if (i.severity === 'error' || i.severity === 'fatal') out.push(fromMedplum(i));
      }
    } else {
      // the validator gives up on some malformed input (`"_gender": "x"`: "Primitive extension
      // must be an object"; a string where it merges a primitive's extension): the resource's fault
      const why = err instanceof Error ? err.message : String(err);
      out.push(issue('error', 'structure', `the resource could not be validated: ${why}`));
    }
  }
  out.push(...checkRequiredBindings(res as Record<string, unknown> & { resourceType: string }));
  return out;
}

/** {@link quickAccept}, where a resource nested too deep for its recursion is the validator's. */
function quickAccepts(res: Record<string, unknown>): boolean {
  try {
    return quickAccept(res);
  } catch {
    return false;
  }
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
