import { allows } from '../access/constraint.js';
import { isJsonObject, parseJson, toPlain, type JsonObject, type JsonValue } from '../fhir/json.js';
import {
  badRequest,
  businessRule,
  forbidden,
  multipleMatches,
  notFound,
  notSupported,
  unsupportedMediaType,
} from '../fhir/outcome.js';
import { assertValid, bodyJson } from '../http/body.js';
import { bodyKind, requireFhirFormat } from '../http/negotiate.js';
import { versionResponse } from '../http/respond.js';
import type { StoreContext, StoreRequest, StoreResponse } from '../http/types.js';
import { applyFhirPathPatch } from '../patch/fhirpath-patch.js';
import { applyJsonPatch } from '../patch/json-patch.js';
import { assertId, assertType, ifMatch, inTx, visible } from './common.js';

type Patcher = (doc: JsonObject) => JsonValue;

/**
 * The patch in a request: JSON Patch (`application/json-patch+json`, or in a Bundle a Binary of that
 * content type) or FHIRPath Patch (a Parameters resource).
 */
function patcher(req: StoreRequest): Patcher {
  if (req.parsed === undefined && bodyKind(req) === 'json-patch') {
    const ops = bodyJson({
      ...req,
      headers: { ...req.headers, 'content-type': 'application/json' },
    });
    return (doc) => applyJsonPatch(doc, ops);
  }
  if (req.parsed === undefined && bodyKind(req) !== 'fhir') {
    throw unsupportedMediaType(
      'PATCH takes application/json-patch+json or a FHIRPath Patch Parameters resource',
    );
  }
  const body = bodyJson(req);
  if (
    isJsonObject(body) &&
    body.resourceType === 'Binary' &&
    body.contentType === 'application/json-patch+json'
  ) {
    const text = Buffer.from(typeof body.data === 'string' ? body.data : '', 'base64').toString(
      'utf8',
    );
    const ops = parseJson(text);
    return (doc) => applyJsonPatch(doc, ops);
  }
  if (isJsonObject(body) && body.resourceType === 'Parameters')
    return (doc) => applyFhirPathPatch(doc, body);
  throw badRequest('PATCH takes a JSON Patch document or a FHIRPath Patch Parameters resource');
}

async function patchOne(
  req: StoreRequest,
  ctx: StoreContext,
  type: string,
  id: string | undefined,
): Promise<StoreResponse> {
  requireFhirFormat(req);
  const apply = patcher(req);
  const expected = ifMatch(req);
  const written = await inTx(req, ctx, async (tx) => {
    let target = id;
    if (target === undefined) {
      const search = ctx.search;
      if (search === undefined)
        throw notSupported('conditional patch needs search, which is not enabled');
      const constraint = req.constraint;
      const call =
        constraint === undefined
          ? { deadline: ctx.deadline() }
          : { deadline: ctx.deadline(), constraint };
      await tx.lockKey(`cond:${type}`); // one conditional patch of a type at a time, in every process
      const ids = await search.match(tx, type, req.query, call);
      if (ids.length !== 1) {
        if (ids.length === 0) throw notFound(`no ${type} matches the criteria`);
        throw multipleMatches(`the criteria matched ${ids.length} ${type} resources`);
      }
      target = ids[0] ?? '';
    }
    const current = await ctx.repo.read(tx, type, target);
    if (current === undefined || !visible(req, type, current.json))
      throw notFound(`${type}/${target} is not known`);
    const row = await ctx.repo.readLive(tx, type, target);
    const doc = parseJson(row.json);
    if (!isJsonObject(doc)) throw new Error('stored resource is not an object');
    const next = apply(doc);
    if (!isJsonObject(next) || next.resourceType !== type || next.id !== target) {
      throw businessRule('a patch must not change resourceType or id');
    }
    assertValid(next);
    if (
      req.constraint !== undefined &&
      !allows(req.constraint, toPlain(next) as Record<string, unknown>)
    ) {
      throw forbidden(`the patched ${type} is outside what the caller may write`);
    }
    return ctx.repo.put(tx, type, target, next, 'PATCH', expected);
  });
  return versionResponse(ctx, req, 200, written, {
    write: true,
    message: `patched ${type}/${written.id}`,
  });
}

/** PATCH [type]/[id]. */
export function patch(
  req: StoreRequest,
  ctx: StoreContext,
  type: string,
  id: string,
): Promise<StoreResponse> {
  assertType(type);
  assertId(id);
  return patchOne(req, ctx, type, id);
}

/** PATCH [type]?criteria (needs search). */
export function conditionalPatch(
  req: StoreRequest,
  ctx: StoreContext,
  type: string,
): Promise<StoreResponse> {
  assertType(type);
  return patchOne(req, ctx, type, undefined);
}
