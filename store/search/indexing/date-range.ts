/**
 * FHIR date, dateTime and instant values as inclusive millisecond ranges by their precision:
 * `2015` is the whole year, `2015-03-01T10:00` the whole minute. Values without a time zone are
 * taken as UTC (the server's zone).
 */

export const MIN_MS = -8_640_000_000_000_000;
export const MAX_MS = 8_640_000_000_000_000;

export interface Range {
  lo: number;
  hi: number;
}

const DATE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

function offsetMs(tz: string | undefined): number {
  if (tz === undefined || tz === 'Z') return 0;
  const sign = tz.startsWith('-') ? -1 : 1;
  const [h, m] = tz.slice(1).split(':').map(Number);
  return sign * ((h ?? 0) * 60 + (m ?? 0)) * 60_000;
}

/** The range a FHIR date/dateTime/instant covers, or undefined if it is not one. */
export function dateRange(value: string): Range | undefined {
  const m = DATE.exec(value.trim());
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo === undefined ? undefined : Number(mo) - 1;
  const day = d === undefined ? undefined : Number(d);
  if (month !== undefined && (month < 0 || month > 11)) return undefined;
  if (day !== undefined && (day < 1 || day > 31)) return undefined;
  const utc = (yy: number, mm: number, dd: number, hh = 0, mn = 0, ss = 0, ms = 0) => {
    const t = new Date(0);
    t.setUTCFullYear(yy, mm, dd);
    t.setUTCHours(hh, mn, ss, ms);
    return t.getTime();
  };
  if (month === undefined) return { lo: utc(year, 0, 1), hi: utc(year + 1, 0, 1) - 1 };
  if (day === undefined) return { lo: utc(year, month, 1), hi: utc(year, month + 1, 1) - 1 };
  if (h === undefined) return { lo: utc(year, month, day), hi: utc(year, month, day + 1) - 1 };
  const off = offsetMs(tz);
  const base = utc(year, month, day, Number(h), Number(mi)) - off;
  if (s === undefined) return { lo: base, hi: base + 60_000 - 1 };
  const sec = base + Number(s) * 1000;
  if (frac === undefined) return { lo: sec, hi: sec + 999 };
  const digits = frac.length;
  const ms = Number(`0.${frac}`) * 1000;
  const width = digits >= 3 ? 1 : 10 ** (3 - digits);
  const lo = sec + Math.floor(ms);
  return { lo, hi: lo + width - 1 };
}
