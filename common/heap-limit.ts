/**
 * The V8 heap bound of every Hearth process (the `npm start` process, cluster workers, store
 * processes), derived from MAX_BODY_BYTES. Without a bound V8 sizes the old generation from the
 * machine's memory (4 GiB here) and lets it grow up to 4× the live data before collecting; with a
 * bound of a few hundred MiB it collects sooner (growth factor ~1.6×), which is most of the
 * difference in resident memory. The bound must still fit the largest body a process accepts:
 * parsing JSON costs up to ~29 bytes of heap per byte of text (deeply nested arrays; `[{},{},…]`
 * costs 22×, ordinary FHIR 3–6×), so the bound grows with MAX_BODY_BYTES and a body at the limit can
 * never crash a process with "heap out of memory".
 */

const MIB = 1024 * 1024;

/** Heap for everything but the request being parsed: live data of a process at 600 patients is 30–80 MiB. */
export const HEAP_BASE_MIB = 256;

/** Heap bytes per byte of request body: the worst JSON.parse expansion measured (29×), rounded up. */
export const HEAP_BYTES_PER_BODY_BYTE = 32;

/** The old-generation limit (MiB) of a Hearth process accepting bodies of up to `maxBodyBytes`. */
export function heapLimitMib(maxBodyBytes: number): number {
  return HEAP_BASE_MIB + Math.ceil((HEAP_BYTES_PER_BODY_BYTE * maxBodyBytes) / MIB);
}

/**
 * The young generation's bound: two semi-spaces of at most 8 MiB instead of node's 16 MiB, for
 * every isolate of the process (V8 lets this flag override a Worker's resourceLimits). Under load
 * V8 grows the young generation to its bound, so the default cost 32 MiB of resident memory per
 * process for garbage. Measured at 600 patients with 32 connections of reads, flags alternated on
 * a quiet VM: 16 MiB less per process, for about 2 % fewer audited reads per second (main-process
 * CPU 161 → 167 µs per read) and 5–8 % fewer unaudited ones; 4 MiB semi-spaces cost about 25 % more
 * CPU per request.
 */
export const SEMI_SPACE_MIB = 8;

/** The node flags setting those bounds, for `execArgv` of a child process or a relaunch. */
export function heapArgs(maxBodyBytes: number): string[] {
  return [
    `--max-old-space-size=${heapLimitMib(maxBodyBytes)}`,
    `--max-semi-space-size=${SEMI_SPACE_MIB}`,
  ];
}

/** Whether a flag sets V8's old-generation limit (the form node accepts with `_` or `-`). */
export function isHeapLimitArg(arg: string): boolean {
  return /^--max[-_]old[-_]space[-_]size(=|$)/.test(arg);
}

/** Whether a flag sets one of the bounds {@link heapArgs} sets (old generation or semi-space). */
export function isHeapArg(arg: string): boolean {
  return isHeapLimitArg(arg) || /^--max[-_]semi[-_]space[-_]size(=|$)/.test(arg);
}

/**
 * Whether a process with V8 heap limit `heapSizeLimitBytes` (`v8.getHeapStatistics()`, which adds
 * the young generation to the old-generation flag) has the heap `maxBodyBytes` needs.
 */
export function heapFits(heapSizeLimitBytes: number, maxBodyBytes: number): boolean {
  return heapSizeLimitBytes >= heapLimitMib(maxBodyBytes) * MIB;
}
