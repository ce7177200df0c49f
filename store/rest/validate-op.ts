import { isJsonObject, toPlain } from '../fhir/json.js';
import { badRequest, issue } from '../fhir/outcome.js';
import { validateFhirResource } from '../fhir/validate.js';
import { bodyJson } from '../http/body.js';
import { requireFhirFormat } from '../http/negotiate.js';
import { outcomeResponse } from '../http/respond.js';
import type { StoreContext, StoreRequest, StoreResponse } from '../http/types.js';
import { assertType } from './common.js';

/**
 * POST [type]/$validate and [type]/[id]/$validate: the body is the resource, or a Parameters with a
 * `resource` parameter. Answers 200 with an OperationOutcome listing the issues (none: information).
 */
export function validateOperation(
  req: StoreRequest,
  _ctx: StoreContext,
  type: string,
): Promise<StoreResponse> {
  assertType(type);
  requireFhirFormat(req);
  let body = bodyJson(req);
  if (isJsonObject(body) && body.resourceType === 'Parameters' && Array.isArray(body.parameter)) {
    const p = body.parameter.find((x) => isJsonObject(x) && x.name === 'resource');
    if (!isJsonObject(p) || !isJsonObject(p.resource))
      throw badRequest('Parameters must carry a resource parameter');
    body = p.resource;
  }
  if (!isJsonObject(body) || body.resourceType !== type) {
    throw badRequest(`the resource to validate must be a ${type}`, ['resourceType']);
  }
  const issues = validateFhirResource(toPlain(body));
  return Promise.resolve(
    outcomeResponse(
      200,
      issues.length > 0 ? issues : [issue('information', 'informational', 'the resource is valid')],
    ),
  );
}
