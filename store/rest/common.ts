import type { Tx } from '../engines/engine.js';
import { allows, typeAccess } from '../access/constraint.js';
import { badRequest, notFound, preconditionFailed } from '../fhir/outcome.js';
import { isResourceType, isValidId } from '../fhir/resource-types.js';
import { parseETag } from '../http/respond.js';
import type { StoreContext, StoreRequest } from '../http/types.js';

/** Runs `fn` in the enclosing transaction Bundle's transaction, or in a transaction of its own. */
export function inTx<T>(
  req: StoreRequest,
  ctx: StoreContext,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  return req.tx !== undefined ? fn(req.tx) : ctx.engine.transaction(fn);
}

export function assertType(type: string): void {
  if (!isResourceType(type)) throw notFound(`unknown resource type ${type}`);
}

export function assertId(id: string): void {
  if (!isValidId(id)) throw badRequest(`invalid id "${id}": 1-64 characters of A-Z a-z 0-9 - .`);
}

/** The If-Match version, undefined when absent; a 412 when it is not a version ETag. */
export function ifMatch(req: StoreRequest): number | undefined {
  const v = parseETag(req.headers['if-match']);
  if (v !== undefined && Number.isNaN(v))
    throw preconditionFailed('If-Match must be a version ETag like W/"3"');
  return v;
}

/** What `visibleParsed` found: whether the version is visible, and its plain JSON if it parsed it. */
export interface Visibility {
  visible: boolean;
  /** The parsed version when deciding needed it (for the disclosure, so it is parsed once). */
  resource?: Record<string, unknown>;
}

const SEEN: Visibility = Object.freeze({ visible: true });
const HIDDEN: Visibility = Object.freeze({ visible: false });

/**
 * Whether the caller's constraint lets it see this stored version of a `type`. The JSON is parsed
 * only when the type's access is confined (a compartment or filters); otherwise the type decides.
 */
export function visibleParsed(
  req: StoreRequest,
  type: string,
  json: string | null | undefined,
): Visibility {
  const c = req.constraint;
  if (c === undefined) return SEEN;
  if (json === null || json === undefined) return HIDDEN;
  const access = typeAccess(c, type);
  if (access === undefined) return HIDDEN;
  if (access.compartment === undefined && (access.anyOf?.length ?? 0) === 0) return SEEN;
  const resource = JSON.parse(json) as Record<string, unknown>;
  return { visible: allows(c, resource), resource };
}

/** `visibleParsed(…).visible`. */
export function visible(req: StoreRequest, type: string, json: string | null | undefined): boolean {
  return visibleParsed(req, type, json).visible;
}
