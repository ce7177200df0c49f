import { randomUUID } from 'node:crypto';

/**
 * Builds Bundle JSON by concatenation, so each stored resource's text goes out verbatim (exact
 * decimals, no re-serialising).
 */

export interface EntryText {
  fullUrl?: string;
  /** Stored resource JSON text, inserted as is. */
  resource?: string;
  search?: unknown;
  request?: unknown;
  /** Pre-serialised `response` element. */
  response?: string;
}

export function entryText(e: EntryText): string {
  const parts: string[] = [];
  if (e.fullUrl !== undefined) parts.push(`"fullUrl":${JSON.stringify(e.fullUrl)}`);
  if (e.resource !== undefined) parts.push(`"resource":${e.resource}`);
  if (e.search !== undefined) parts.push(`"search":${JSON.stringify(e.search)}`);
  if (e.request !== undefined) parts.push(`"request":${JSON.stringify(e.request)}`);
  if (e.response !== undefined) parts.push(`"response":${e.response}`);
  return `{${parts.join(',')}}`;
}

export function bundleText(
  type: string,
  entries: string[],
  extra: { total?: number; link?: { relation: string; url: string }[] } = {},
): string {
  const head: string[] = [
    '"resourceType":"Bundle"',
    `"id":${JSON.stringify(randomUUID())}`,
    `"meta":{"lastUpdated":${JSON.stringify(new Date().toISOString())}}`,
    `"type":${JSON.stringify(type)}`,
  ];
  if (extra.total !== undefined) head.push(`"total":${extra.total}`);
  if (extra.link !== undefined && extra.link.length > 0)
    head.push(`"link":${JSON.stringify(extra.link)}`);
  head.push(`"entry":[${entries.join(',')}]`);
  return `{${head.join(',')}}`;
}
