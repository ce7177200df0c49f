import { badRequest } from '../fhir/outcome.js';
import type { JsonObject } from '../fhir/json.js';
import { bodyResource } from '../http/body.js';
import { bodyKind } from '../http/negotiate.js';
import type { StoreRequest } from '../http/types.js';

/**
 * The resource a create/update writes. A Binary sent in its own content type (not FHIR JSON) is
 * wrapped as a Binary resource (`contentType`, base64 `data`), as R4 requires.
 */
export function writeBody(req: StoreRequest, type: string, id?: string): JsonObject {
  if (type === 'Binary' && req.parsed === undefined && bodyKind(req) === 'other') {
    const contentType = (req.headers['content-type'] ?? 'application/octet-stream').trim();
    const binary: JsonObject = { resourceType: 'Binary' };
    if (id !== undefined) binary.id = id;
    binary.contentType = contentType;
    const security = req.headers['x-security-context'];
    if (security !== undefined && security !== '') binary.securityContext = { reference: security };
    binary.data = (req.body ?? Buffer.alloc(0)).toString('base64');
    return binary;
  }
  const resource = bodyResource(req, type);
  if (resource.id !== undefined && typeof resource.id !== 'string') {
    throw badRequest('id must be a string', [`${type}.id`]);
  }
  return resource;
}
