import { FhirError, issue, methodNotAllowed, notFound } from '../fhir/outcome.js';
import { dispatchBundle } from '../rest/bundle.js';
import { assertId, assertType } from '../rest/common.js';
import { create } from '../rest/create.js';
import { conditionalDelete, purgeHistory, remove } from '../rest/delete.js';
import { history } from '../rest/history.js';
import { metadata } from '../rest/metadata.js';
import { conditionalPatch, patch } from '../rest/patch.js';
import { read, vread } from '../rest/read.js';
import { conditionalUpdate, update } from '../rest/update.js';
import { validateOperation } from '../rest/validate-op.js';
import type { SearchCall, StoreContext, StoreRequest, StoreResponse } from './types.js';

/**
 * FHIR REST routing (http.html). Searches, compartment searches and operations other than the
 * store's own go to the SearchProvider when one is plugged in.
 */

function searchUnavailable(): FhirError {
  return new FhirError(501, [
    issue('error', 'not-supported', 'search is not enabled in this store yet'),
  ]);
}

function searchCall(req: StoreRequest, ctx: StoreContext, extra: Partial<SearchCall>): SearchCall {
  const call: SearchCall = {
    db: req.tx ?? ctx.engine,
    params: req.query,
    baseUrl: ctx.baseUrl,
    deadline: ctx.deadline(),
    request: req,
    ...extra,
  };
  if (req.constraint !== undefined) call.constraint = req.constraint;
  return call;
}

function search(
  req: StoreRequest,
  ctx: StoreContext,
  extra: Partial<SearchCall>,
): Promise<StoreResponse> {
  if (ctx.search === undefined) throw searchUnavailable();
  return ctx.search.search(searchCall(req, ctx, extra));
}

/** POST [type]/_search: form parameters in the body join the query. */
function searchPost(req: StoreRequest, ctx: StoreContext, type: string): Promise<StoreResponse> {
  const params = new URLSearchParams(req.query);
  const ct = req.headers['content-type'] ?? '';
  if (req.body !== undefined && ct.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) params.append(k, v);
  }
  return search({ ...req, query: params }, ctx, { type, params });
}

async function operation(
  req: StoreRequest,
  ctx: StoreContext,
  name: string,
  type?: string,
  id?: string,
) {
  const handled =
    ctx.search?.operation === undefined
      ? undefined
      : await ctx.search.operation({
          ...searchCall(req, ctx, type === undefined ? {} : { type }),
          name,
          method: req.method,
          ...(id === undefined ? {} : { id }),
        });
  if (handled === undefined) throw notFound(`operation ${name} is not supported here`);
  return handled;
}

function only(req: StoreRequest, ...methods: string[]): void {
  const m = req.method === 'HEAD' ? 'GET' : req.method;
  if (!methods.includes(m))
    throw methodNotAllowed(`${req.method} is not allowed on /${req.path.join('/')}`);
}

export async function dispatch(req: StoreRequest, ctx: StoreContext): Promise<StoreResponse> {
  const [a, b, c, d] = req.path;
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (a === undefined) {
    only(req, 'GET', 'POST');
    return method === 'POST' ? dispatchBundle(req, ctx, dispatch) : search(req, ctx, {});
  }
  if (req.path.length === 1 && a === 'metadata') {
    only(req, 'GET');
    return metadata(req, ctx);
  }
  if (req.path.length === 1 && a === '_history') {
    only(req, 'GET');
    return history(req, ctx);
  }
  if (a.startsWith('$')) return operation(req, ctx, a);
  assertType(a);
  if (b === undefined) {
    switch (method) {
      case 'GET':
        return search(req, ctx, { type: a });
      case 'POST':
        return create(req, ctx, a);
      case 'PUT':
        return conditionalUpdate(req, ctx, a);
      case 'DELETE':
        return conditionalDelete(req, ctx, a);
      case 'PATCH':
        return conditionalPatch(req, ctx, a);
      default:
        throw methodNotAllowed(`${req.method} is not allowed on /${a}`);
    }
  }
  if (c === undefined) {
    if (b === '_search') {
      only(req, 'POST');
      return searchPost(req, ctx, a);
    }
    if (b === '_history') {
      only(req, 'GET');
      return history(req, ctx, a);
    }
    if (b === '$validate') {
      only(req, 'POST');
      return validateOperation(req, ctx, a);
    }
    if (b.startsWith('$')) return operation(req, ctx, b, a);
    switch (method) {
      case 'GET':
        return read(req, ctx, a, b);
      case 'PUT':
        return update(req, ctx, a, b);
      case 'DELETE':
        return remove(req, ctx, a, b);
      case 'PATCH':
        return patch(req, ctx, a, b);
      default:
        throw methodNotAllowed(`${req.method} is not allowed on /${a}/${b}`);
    }
  }
  if (d === undefined) {
    if (c === '_history') {
      only(req, 'GET');
      return history(req, ctx, a, b);
    }
    if (c === '$validate') {
      only(req, 'POST');
      return validateOperation(req, ctx, a);
    }
    if (c === '$purge-history') {
      only(req, 'DELETE', 'POST');
      return purgeHistory(req, ctx, a, b);
    }
    if (c.startsWith('$')) return operation(req, ctx, c, a, b);
    only(req, 'GET');
    assertId(b);
    assertType(c);
    return search(req, ctx, { type: c, compartment: { type: a, id: b } });
  }
  if (c === '_history' && req.path.length === 4) {
    only(req, 'GET');
    return vread(req, ctx, a, b, d);
  }
  throw notFound(`no such endpoint: /${req.path.join('/')}`);
}
