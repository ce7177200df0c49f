import type { SearchRequest } from '../query/request.js';
import type { SearchInput } from '../search-input.js';

/** A paging link: the parameters that took effect, plus the cursor. */
export function link(input: SearchInput, req: SearchRequest, cursor: string | undefined): string {
  const qs = new URLSearchParams(req.echo);
  if (cursor !== undefined) qs.set('_cursor', cursor);
  const s = qs.toString();
  const path = input.path === '' ? input.baseUrl : `${input.baseUrl}/${input.path}`;
  return s === '' ? path : `${path}?${s}`;
}

/**
 * Runs a type, system, compartment or `$everything` search: matches, one page, includes, total,
 * links; everything inside one set of queries, each filtered by the access constraint.
 */
