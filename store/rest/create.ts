import { allows } from '../access/constraint.js';
import { toPlain } from '../fhir/json.js';
import { forbidden, multipleMatches, notSupported } from '../fhir/outcome.js';
import { assertValid } from '../http/body.js';
import { requireFhirFormat } from '../http/negotiate.js';
import { versionResponse } from '../http/respond.js';
import type { StoreContext, StoreRequest, StoreResponse } from '../http/types.js';
import { assertType, inTx } from './common.js';
import { writeBody } from './write-body.js';

/** POST [type]: a new resource with a server id (a body id is ignored); `If-None-Exist` when search is wired. */
export async function create(
  req: StoreRequest,
  ctx: StoreContext,
  type: string,
): Promise<StoreResponse> {
  assertType(type);
  requireFhirFormat(req);
  const resource = writeBody(req, type);
  assertValid(resource, req);
  if (
    req.constraint !== undefined &&
    !allows(req.constraint, toPlain(resource) as Record<string, unknown>)
  ) {
    throw forbidden(`this ${type} is outside what the caller may write`);
  }
  const ifNoneExist = req.headers['if-none-exist'];
  if (ifNoneExist === undefined || ifNoneExist === '') {
    const written = await inTx(req, ctx, (tx) => ctx.repo.create(tx, type, resource, req.assignId));
    return versionResponse(ctx, req, 201, written, {
      write: true,
      message: `created ${type}/${written.id}`,
    });
  }
  const search = ctx.search;
  if (search === undefined)
    throw notSupported('conditional create (If-None-Exist) needs search, which is not enabled');
  const result = await inTx(req, ctx, async (tx) => {
    const params = new URLSearchParams(ifNoneExist.replace(/^[^?]*\?/, ''));
    const constraint = req.constraint;
    const call =
      constraint === undefined
        ? { deadline: ctx.deadline() }
        : { deadline: ctx.deadline(), constraint };
    await tx.lockKey(`cond:${type}`); // one conditional create of a type at a time, in every process
    const ids = await search.match(tx, type, params, call);
    if (ids.length > 1)
      throw multipleMatches(`If-None-Exist matched ${ids.length} ${type} resources`);
    const existing = ids[0];
    if (existing !== undefined) {
      const row = await ctx.repo.readLive(tx, type, existing);
      return {
        status: 200,
        v: {
          type,
          id: existing,
          version: row.version,
          lastUpdated: row.last_updated,
          json: row.json,
        },
      };
    }
    return { status: 201, v: await ctx.repo.create(tx, type, resource, req.assignId) };
  });
  return versionResponse(ctx, req, result.status, result.v, {
    write: true,
    message: 'conditional create',
  });
}
