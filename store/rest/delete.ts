import { badRequest, issue, multipleMatches, notFound, notSupported } from '../fhir/outcome.js';
import { etag, outcomeResponse, preferReturn } from '../http/respond.js';
import type { Disclosure, StoreContext, StoreRequest, StoreResponse } from '../http/types.js';
import { assertId, assertType, ifMatch, inTx, visible } from './common.js';

function deleted(
  req: StoreRequest,
  message: string,
  disclosed: Disclosure[],
  version?: number,
): StoreResponse {
  const headers: Record<string, string> = version === undefined ? {} : { etag: etag(version) };
  if (preferReturn(req) === 'OperationOutcome') {
    return {
      ...outcomeResponse(200, [issue('information', 'informational', message)], headers),
      disclosed,
    };
  }
  return { status: 204, headers, disclosed };
}

function hardDeleteWanted(req: StoreRequest): boolean {
  const v = req.query.get('hardDelete') ?? req.query.get('_hardDelete');
  if (v === null) return false;
  if (v !== 'true' && v !== 'false') throw badRequest('hardDelete must be true or false');
  return v === 'true';
}

/**
 * DELETE [type]/[id]: a soft delete (a new, deleted version; history kept). Deleting a missing or
 * already deleted resource is a 204 too. `?hardDelete=true` removes the resource and its history.
 */
export async function remove(
  req: StoreRequest,
  ctx: StoreContext,
  type: string,
  id: string,
): Promise<StoreResponse> {
  assertType(type);
  assertId(id);
  const hard = hardDeleteWanted(req);
  const expected = ifMatch(req);
  return inTx(req, ctx, async (tx) => {
    const current = await ctx.repo.read(tx, type, id);
    if (current !== undefined && !visible(req, type, current.json))
      return deleted(req, `${type}/${id} is not known`, []);
    if (hard) {
      const r = await ctx.repo.hardDelete(tx, type, id);
      const disclosed: Disclosure[] =
        current === undefined ? [] : [{ type, id, version: current.version, json: current.json }];
      return deleted(req, `removed ${type}/${id} and ${r.versions} versions`, disclosed);
    }
    const d = await ctx.repo.remove(tx, type, id, expected);
    if (d.version === undefined) return deleted(req, `${type}/${id} was already absent`, []);
    const disclosed: Disclosure[] = [
      { type, id, version: d.version, ...(d.previous ? { resource: d.previous } : {}) },
    ];
    return deleted(req, `deleted ${type}/${id}`, disclosed, d.version);
  });
}

/** DELETE [type]?criteria (conditional delete; needs search). `_count` up to CONDITIONAL_DELETE_MAX. */
export async function conditionalDelete(
  req: StoreRequest,
  ctx: StoreContext,
  type: string,
): Promise<StoreResponse> {
  assertType(type);
  const search = ctx.search;
  if (search === undefined)
    throw notSupported('conditional delete needs search, which is not enabled');
  const hard = hardDeleteWanted(req);
  const params = new URLSearchParams(req.query);
  params.delete('hardDelete');
  params.delete('_hardDelete');
  const countText = params.get('_count');
  params.delete('_count');
  const max = countText === null ? 1 : Number(countText);
  if (!Number.isInteger(max) || max < 1 || max > ctx.config.conditionalDeleteMax) {
    throw badRequest(`_count must be an integer from 1 to ${ctx.config.conditionalDeleteMax}`);
  }
  return inTx(req, ctx, async (tx) => {
    const constraint = req.constraint;
    const call =
      constraint === undefined
        ? { deadline: ctx.deadline() }
        : { deadline: ctx.deadline(), constraint };
    await tx.lockKey(`cond:${type}`); // one conditional delete of a type at a time, in every process
    const ids = await search.match(tx, type, params, call);
    if (ids.length > max)
      throw multipleMatches(
        `the criteria matched ${ids.length} ${type} resources (at most ${max})`,
      );
    const disclosed: Disclosure[] = [];
    for (const id of ids) {
      if (hard) {
        const r = await ctx.repo.hardDelete(tx, type, id);
        if (r.previous) disclosed.push({ type, id, version: 0, resource: r.previous });
      } else {
        const d = await ctx.repo.remove(tx, type, id);
        if (d.version !== undefined)
          disclosed.push({
            type,
            id,
            version: d.version,
            ...(d.previous ? { resource: d.previous } : {}),
          });
      }
    }
    const res = deleted(req, `deleted ${disclosed.length} ${type} resources`, disclosed);
    res.headers['items-deleted'] = String(disclosed.length);
    return res;
  });
}

/** DELETE (or POST) [type]/[id]/$purge-history: every version but the current one is removed. */
export async function purgeHistory(
  req: StoreRequest,
  ctx: StoreContext,
  type: string,
  id: string,
): Promise<StoreResponse> {
  assertType(type);
  assertId(id);
  return inTx(req, ctx, async (tx) => {
    const current = await ctx.repo.read(tx, type, id);
    if (current === undefined || !visible(req, type, current.json))
      throw notFound(`${type}/${id} is not known`);
    const n = await ctx.repo.purgeHistory(tx, type, id);
    return {
      ...outcomeResponse(200, [
        issue('information', 'informational', `removed ${n} earlier versions of ${type}/${id}`),
      ]),
      disclosed: [{ type, id, version: current.version, json: current.json }],
    };
  });
}
