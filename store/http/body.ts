import { badRequest, invalidResource } from '../fhir/outcome.js';
import {
  isJsonObject,
  parseJson,
  plainView,
  type JsonObject,
  type JsonValue,
} from '../fhir/json.js';
import { validateFhirResource } from '../fhir/validate.js';
import { requireFhirBody } from './negotiate.js';
import type { StoreRequest } from './types.js';

/** The request body as lossless JSON (a Bundle entry's resource, or the parsed HTTP body). */
export function bodyJson(req: StoreRequest): JsonValue {
  if (req.parsed !== undefined) return req.parsed;
  requireFhirBody(req);
  if (req.body === undefined || req.body.length === 0)
    throw badRequest('a request body is required');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(req.body);
  } catch {
    throw badRequest('the request body is not valid UTF-8');
  }
  return parseJson(text);
}

/** The body as a resource of `type` (when given); a 400 when it is not one. */
export function bodyResource(req: StoreRequest, type?: string): JsonObject {
  const value = bodyJson(req);
  if (!isJsonObject(value) || typeof value.resourceType !== 'string') {
    throw badRequest('the body must be a FHIR resource (a JSON object with resourceType)', [
      'resourceType',
    ]);
  }
  if (type !== undefined && value.resourceType !== type) {
    throw badRequest(`resourceType ${value.resourceType} does not match the URL type ${type}`, [
      'resourceType',
    ]);
  }
  return value;
}

/**
 * Validates against the R4 definitions; a 400 listing every issue with its FHIRPath expression.
 * `req.validated` (when `resource` is `req.parsed`, validated ahead by the Bundle validator thread)
 * stands for the result.
 */
export function assertValid(resource: JsonObject, req?: StoreRequest): void {
  const issues =
    req?.validated !== undefined && req.parsed === resource
      ? req.validated
      : validateFhirResource(plainView(resource));
  if (issues.length > 0) throw invalidResource([...issues]);
}
