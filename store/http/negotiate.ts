import { notAcceptable, unsupportedMediaType } from '../fhir/outcome.js';
import type { StoreRequest } from './types.js';

/** Content negotiation: Hearth speaks FHIR JSON only (and Binary's native content types). */

const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'text/json']);

function mediaTypes(accept: string): string[] {
  return accept
    .split(',')
    .map((p) => (p.split(';')[0] ?? '').trim().toLowerCase())
    .filter((p) => p !== '');
}

const isJson = (t: string) =>
  t === '*/*' || t === 'application/*' || JSON_FORMATS.has(t) || t.endsWith('+json');
const isXml = (t: string) => t.includes('xml');

/**
 * How to answer: `fhir` (FHIR JSON) or `raw` (the requested type is neither JSON nor XML: only a
 * Binary can answer in it). XML in `_format` or `Accept` is a 406.
 */
export function responseFormat(req: StoreRequest): 'fhir' | 'raw' {
  const format = req.query.get('_format');
  if (format !== null) {
    // A `+` in a query string arrives as a space (`_format=application/fhir+json`).
    const f = format.toLowerCase().replace(/ /g, '+');
    if (JSON_FORMATS.has(f) || f.endsWith('+json')) return 'fhir';
    throw notAcceptable(
      `_format ${format} is not supported; this server speaks application/fhir+json`,
    );
  }
  const accept = req.headers.accept;
  // the usual Accept (one JSON type, no parameters) answers without splitting it
  if (accept === undefined || JSON_FORMATS.has(accept)) return 'fhir';
  const types = mediaTypes(accept);
  if (types.length === 0 || types.some(isJson)) return 'fhir';
  if (types.some(isXml)) throw notAcceptable('XML is not supported; ask for application/fhir+json');
  return 'raw';
}

/** Like responseFormat, for interactions that can only answer FHIR JSON. */
export function requireFhirFormat(req: StoreRequest): void {
  if (responseFormat(req) === 'raw') {
    throw notAcceptable(
      `cannot answer in ${req.headers.accept ?? ''}; ask for application/fhir+json`,
    );
  }
}

export type BodyKind = 'fhir' | 'json-patch' | 'other';

/** The kind of a request body; XML is a 415. Absent Content-Type is taken as FHIR JSON. */
export function bodyKind(req: StoreRequest): BodyKind {
  const ct = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (ct === '' || JSON_FORMATS.has(ct)) return 'fhir';
  if (ct === 'application/json-patch+json') return 'json-patch';
  if (isXml(ct))
    throw unsupportedMediaType('XML request bodies are not supported; send application/fhir+json');
  return 'other';
}

export function requireFhirBody(req: StoreRequest): void {
  if (req.parsed === undefined && bodyKind(req) !== 'fhir') {
    throw unsupportedMediaType(
      `Content-Type ${req.headers['content-type'] ?? ''} is not supported here; send application/fhir+json`,
    );
  }
}
