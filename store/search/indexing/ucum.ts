import fhirpath from 'fhirpath';

export const UCUM_SYSTEM = 'http://unitsofmeasure.org';

interface BaseUnits {
  status: string;
  magnitude?: number;
  unitToExp?: Record<string, number>;
  fromUnitIsSpecial?: boolean;
}

interface Ucum {
  convertToBaseUnits(unit: string, value: number): BaseUnits;
}

const ucum = fhirpath.ucumUtils as Ucum;
const unitCache = new Map<string, { unit: string; factor: number | undefined } | null>();
/**
 * Values of special (non-linear) units in base units, by `code value`: one Observation indexes the
 * same value under several parameters (value-quantity, its composites), each a library call.
 */
const specialCache = new Map<string, number | undefined>();

function canonicalUnit(exps: Record<string, number>): string {
  return Object.keys(exps)
    .filter((k) => exps[k] !== 0)
    .sort()
    .map((k) => `${k}${exps[k] === 1 ? '' : String(exps[k])}`)
    .join('.');
}

/**
 * A UCUM quantity in base units (`5 mg/dL` → `50 g.m-3`), via the UCUM library fhirpath.js
 * ships; undefined for a code UCUM does not know.
 */
export function toCanonical(
  code: string,
  value: number,
): { value: number; unit: string } | undefined {
  let entry = unitCache.get(code);
  if (entry === undefined) {
    const r = ucum.convertToBaseUnits(code, 1);
    entry =
      r.status === 'succeeded' && r.unitToExp !== undefined && r.magnitude !== undefined
        ? {
            unit: canonicalUnit(r.unitToExp),
            factor: r.fromUnitIsSpecial === true ? undefined : r.magnitude,
          }
        : null;
    if (unitCache.size < 10_000) unitCache.set(code, entry);
  }
  if (entry === null) return undefined;
  if (entry.factor !== undefined) return { value: value * entry.factor, unit: entry.unit };
  const key = `${code} ${value}`;
  let magnitude = specialCache.get(key);
  if (magnitude === undefined && !specialCache.has(key)) {
    magnitude = ucum.convertToBaseUnits(code, value).magnitude;
    if (specialCache.size >= 10_000) specialCache.clear();
    specialCache.set(key, magnitude);
  }
  return magnitude === undefined ? undefined : { value: magnitude, unit: entry.unit };
}
