/** Date arithmetic for the generator, in UTC so output never depends on the machine's zone. */

export const DAY_MS = 86_400_000;
export const YEAR_MS = 365.25 * DAY_MS;

/** A FHIR dateTime/instant with seconds precision and `Z`: `2026-03-14T09:30:00Z`. */
export function instant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A FHIR date: `2026-03-14`. */
export function date(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whole years between two instants. */
export function yearsBetween(fromMs: number, toMs: number): number {
  return Math.floor((toMs - fromMs) / YEAR_MS);
}
