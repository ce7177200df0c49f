import { outcome } from '../../fhir/outcome.js';
import type { SearchPage } from './page.js';

/**
 * The searchset Bundle as JSON text, built around each entry's stored JSON (never re-serialised),
 * with `search.mode` match / include, and an `outcome` entry carrying any warnings.
 */
export function renderSearchBundle(page: SearchPage, baseUrl: string): string {
  const head: Record<string, unknown> = { resourceType: 'Bundle', type: 'searchset' };
  if (page.total !== undefined) head.total = page.total;
  head.link = page.links;
  const entries = page.entries.map(
    (e) =>
      `{"fullUrl":${JSON.stringify(`${baseUrl}/${e.type}/${e.id}`)},"resource":${e.json},"search":{"mode":"${e.mode}"}}`,
  );
  if (page.issues.length > 0)
    entries.push(
      `{"resource":${JSON.stringify(outcome(page.issues))},"search":{"mode":"outcome"}}`,
    );
  const text = JSON.stringify(head);
  return `${text.slice(0, -1)},"entry":[${entries.join(',')}]}`;
}
