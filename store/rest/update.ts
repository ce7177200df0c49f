import { allows } from '../access/constraint.js';
import { toPlain } from '../fhir/json.js';
import type { JsonObject } from '../fhir/json.js';
import { badRequest, forbidden, multipleMatches, notSupported } from '../fhir/outcome.js';
import { assertValid } from '../http/body.js';
import { requireFhirFormat } from '../http/negotiate.js';
import { versionResponse } from '../http/respond.js';
import type { StoreContext, StoreRequest, StoreResponse } from '../http/types.js';
import { assertId, assertType, ifMatch, inTx, visible } from './common.js';
import { writeBody } from './write-body.js';

function checkAfter(req: StoreRequest, type: string, resource: JsonObject): void {
  if (
    req.constraint !== undefined &&
    !allows(req.constraint, toPlain(resource) as Record<string, unknown>)
  ) {
    throw forbidden(`this ${type} is outside what the caller may write`);
  }
}

/** PUT [type]/[id]: a new version, or update-as-create with the client's id. */
export async function update(
  req: StoreRequest,
  ctx: StoreContext,
  type: string,
  id: string,
): Promise<StoreResponse> {
  assertType(type);
  assertId(id);
  requireFhirFormat(req);
  const resource = writeBody(req, type, id);
  if (resource.id === undefined)
    throw badRequest('the resource must carry its id (the one in the URL)', [`${type}.id`]);
  if (resource.id !== id)
    throw badRequest(`body id ${JSON.stringify(resource.id)} does not match the URL id ${id}`, [
      `${type}.id`,
    ]);
  assertValid(resource, req);
  checkAfter(req, type, resource);
  const expected = ifMatch(req);
  const written = await inTx(req, ctx, async (tx) => {
    if (req.constraint !== undefined) {
      const current = await ctx.repo.read(tx, type, id);
      if (current !== undefined && current.deleted === 0 && !visible(req, type, current.json)) {
        throw forbidden(`${type}/${id} is outside what the caller may write`);
      }
    }
    return ctx.repo.put(tx, type, id, resource, 'PUT', expected);
  });
  return versionResponse(ctx, req, written.created ? 201 : 200, written, {
    write: true,
    message: `${written.created ? 'created' : 'updated'} ${type}/${id}`,
  });
}

/** PUT [type]?criteria (conditional update; needs search). */
export async function conditionalUpdate(
  req: StoreRequest,
  ctx: StoreContext,
  type: string,
): Promise<StoreResponse> {
  assertType(type);
  requireFhirFormat(req);
  const search = ctx.search;
  if (search === undefined)
    throw notSupported('conditional update needs search, which is not enabled');
  const resource = writeBody(req, type);
  assertValid(resource, req);
  checkAfter(req, type, resource);
  const expected = ifMatch(req);
  const written = await inTx(req, ctx, async (tx) => {
    const constraint = req.constraint;
    const call =
      constraint === undefined
        ? { deadline: ctx.deadline() }
        : { deadline: ctx.deadline(), constraint };
    await tx.lockKey(`cond:${type}`); // one conditional update of a type at a time, in every process
    const ids = await search.match(tx, type, req.query, call);
    if (ids.length > 1)
      throw multipleMatches(`the criteria matched ${ids.length} ${type} resources`);
    const match = ids[0];
    const bodyId = typeof resource.id === 'string' ? resource.id : undefined;
    if (match !== undefined && bodyId !== undefined && bodyId !== match) {
      throw badRequest(
        `body id ${bodyId} does not match the resource the criteria found (${match})`,
      );
    }
    if (match !== undefined) return ctx.repo.put(tx, type, match, resource, 'PUT', expected);
    return bodyId !== undefined
      ? ctx.repo.put(tx, type, bodyId, resource, 'PUT', expected)
      : ctx.repo.create(tx, type, resource);
  });
  return versionResponse(ctx, req, written.created ? 201 : 200, written, {
    write: true,
    message: 'conditional update',
  });
}
