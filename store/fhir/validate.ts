import {
  indexStructureDefinitionBundle,
  OperationOutcomeError,
  validateResource,
} from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { readDefinition, type DefinitionFile } from './definitions.js';
import { issue, type OutcomeIssue } from './outcome.js';
import { checkRequiredBindings } from './required-bindings.js';
import { isResourceType, isValidId } from './resource-types.js';

/** Longest string a resource may carry outside base64 `data` elements (FHIR: 1 MB). */
export const MAX_STRING_LENGTH = 1_048_576;

type Entries = NonNullable<Bundle['entry']>;

const FILES: DefinitionFile[] = ['profiles-types.json', 'profiles-resources.json'];
/** StructureDefinitions read but not yet given to the validator, and the files not yet read. */
const pending: Entries = [];
const unread = [...FILES];
let indexed = false;

/** One step of loading: reads the next file, or indexes up to `n` definitions, or warms up. */
function loadStep(n: number): void {
  if (pending.length === 0 && unread.length > 0) {
    const file = unread.shift() ?? 'profiles-types.json';
    pending.push(...(readDefinition<Bundle>(file).entry ?? []));
    return;
  }
  const batch = pending.splice(0, n);
  if (batch.length > 0) {
    indexStructureDefinitionBundle({ resourceType: 'Bundle', type: 'collection', entry: batch });
    return;
  }
  if (!indexed) {
    indexed = true;
    // Warm the validator and the required-binding tables so the first write is not slow.
    validateFhirResource({ resourceType: 'Patient', gender: 'unknown' });
  }
}

/** Loads the R4 StructureDefinitions into the validator (once per process; ~0.5–3 s of CPU). */
export function loadValidator(): void {
  while (!indexed) loadStep(Number.POSITIVE_INFINITY);
}

/**
 * {@link loadValidator} in small steps that yield to the event loop between them, so a process
 * warming up keeps answering (health checks, reads) meanwhile. A write arriving before it is done
 * loads the rest at once.
 */
export async function warmUpValidator(stepSize = 40): Promise<void> {
  while (!indexed) {
    loadStep(stepSize);
    await new Promise((resolve) => setImmediate(resolve));
  }
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
