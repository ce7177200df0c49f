import { processBundle } from '../bundle/process.js';
import { bodyResource } from '../http/body.js';
import { requireFhirFormat } from '../http/negotiate.js';
import type { Handler, StoreContext, StoreRequest, StoreResponse } from '../http/types.js';

/** POST [base]: a batch or transaction Bundle. */
export function dispatchBundle(
  req: StoreRequest,
  ctx: StoreContext,
  dispatch: Handler,
): Promise<StoreResponse> {
  requireFhirFormat(req);
  return processBundle(req, ctx, dispatch, bodyResource(req, 'Bundle'));
}
