import type { Bundle, Resource } from '@medplum/fhirtypes';
import { transactionBundle, ndjsonByType, type ReferenceStyle } from './bundles.js';
import { generatePatientRecord } from './record/patient-record.js';
import { generateShared, type SharedResources } from './record/shared.js';

/** The default "today" of generated records; fixed so the same seed always gives the same bytes. */
export const DEFAULT_AS_OF = '2026-10-01T00:00:00Z';
export const DEFAULT_SEED = 'hearth-demo';

export interface GenerateOptions {
  /** Number of patients (0 or more). */
  readonly patients: number;
  readonly seed?: string;
  /** The records' "today" (an ISO instant); encounters span the six years before it. */
  readonly asOf?: string;
}

export interface Population {
  readonly shared: SharedResources;
  /** `patients` records, each a list of resources starting with its Patient. */
  readonly records: readonly (readonly Resource[])[];
}

function parseOptions(o: GenerateOptions): { seed: string; asOfMs: number } {
  if (!Number.isInteger(o.patients) || o.patients < 0)
    throw new RangeError('patients must be a whole number ≥ 0');
  const asOfMs = Date.parse(o.asOf ?? DEFAULT_AS_OF);
  if (Number.isNaN(asOfMs)) throw new RangeError('asOf must be an ISO date-time');
  return { seed: o.seed ?? DEFAULT_SEED, asOfMs };
}

/** Shared practitioners and organizations, then one record per patient, lazily. */
export function* generateRecords(
  o: GenerateOptions,
): Generator<readonly Resource[], void, undefined> {
  const { seed, asOfMs } = parseOptions(o);
  const shared = generateShared(seed);
  for (let i = 0; i < o.patients; i++) yield generatePatientRecord(seed, i, shared, asOfMs);
}

export function generatePopulation(o: GenerateOptions): Population {
  const { seed } = parseOptions(o);
  return { shared: generateShared(seed), records: [...generateRecords(o)] };
}

/** The practitioners and organizations first, as one Bundle. */
export function sharedBundle(o: GenerateOptions, style: ReferenceStyle = 'urn:uuid'): Bundle {
  const { seed } = parseOptions(o);
  const shared = generateShared(seed);
  return transactionBundle([...shared.organizations, ...shared.practitioners], style);
}

/**
 * Transaction Bundles to load in order: the shared resources, then one per patient (PUT with fixed
 * ids, so loading them again changes nothing). Lazy, so a benchmark can stream a large population.
 */
export function* demoBundles(
  o: GenerateOptions,
  style: ReferenceStyle = 'urn:uuid',
): Generator<Bundle, void, undefined> {
  yield sharedBundle(o, style);
  for (const record of generateRecords(o)) yield transactionBundle(record, style);
}

/** The whole population as NDJSON per resource type. */
export function demoNdjson(o: GenerateOptions): Map<string, string> {
  const p = generatePopulation(o);
  return ndjsonByType([...p.shared.organizations, ...p.shared.practitioners, ...p.records.flat()]);
}
