import { badRequest } from '../fhir/outcome.js';
import type { StoreRequest, StoreResponse } from '../http/types.js';
import { parseElements } from '../search/query/parse-request.js';
import { shapeJson } from '../search/results/shape.js';

const READ_SUMMARIES = ['true', 'text', 'data', 'false'] as const;
type ReadSummary = (typeof READ_SUMMARIES)[number];

const isReadSummary = (v: string): v is ReadSummary =>
  (READ_SUMMARIES as readonly string[]).includes(v);

/**
 * `_summary` and `_elements` on a read or vread: the answer's body trimmed as a search entry
 * would be (marked SUBSETTED); the audit's disclosure keeps the whole resource. `_summary=count`
 * means nothing for one resource and is a 400.
 */
export function shapeRead(req: StoreRequest, type: string, res: StoreResponse): StoreResponse {
  const summary = req.query.get('_summary');
  const elements = req.query.get('_elements');
  if (summary === null && elements === null) return res;
  if (summary !== null && !isReadSummary(summary)) {
    throw badRequest(`_summary must be one of ${READ_SUMMARIES.join(', ')} on a read`, [
      '_summary',
    ]);
  }
  if (typeof res.body !== 'string') return res;
  res.body = shapeJson(
    res.body,
    type,
    summary ?? undefined,
    elements === null ? undefined : parseElements(elements),
  );
  return res;
}
